// Per-step time of one BPR training step with Adam on the tfjs CPU and WASM backends in one
// run, two ways:
//
//   sparseAdam   negsample/tfjs sparseAdam(...).minimize: gradients of the looked-up rows only
//                (lookupGradients), Adam on the batch's distinct rows (lazy Adam)
//   tf.train.adam  the dense optimizer on the same loss through negsample/tfjs embeddingLookup
//                (the fastest dense gradient; tf.gather's costs vocab x batch on CPU and has no
//                WASM kernel), which updates every row of both tables
//
// A step: B users, B positives, B negatives (one per positive), BPR loss
// mean(softplus(u.n - u.p)), tables users [USERS, DIM] and items [ITEMS, DIM]. Before timing,
// both contenders take one step from the same tables and are compared: at Adam's first step a
// row outside the batch has zero moments, so dense and lazy Adam must agree on every row (and
// the sparse one must leave untouched rows bit-identical). A contender that fails is reported,
// not timed.
//
//   npm run build && node benches/tfjs-sparse-optim.bench.mjs [--quick]
//
// Results go to stdout as a table, with the ratio dense / sparse.

import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { bprLoss, embeddingLookup, sparseAdam } from '../dist/tfjs.js'
import { mulberry32 as random } from './lib/data.mjs'

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const QUICK = args.quick
const DIM = 64
const BATCH = 2048
const ITEMS = 100_000
const USERS = 10_000
const SECONDS = QUICK ? 1 : 4 // time budget per contender and backend
const MAX_STEPS = QUICK ? 15 : 60
const LR = 0.01


function ids(r, n, vocab) {
  const out = new Int32Array(n)
  for (let j = 0; j < n; j++) out[j] = Math.floor(r() * vocab)
  return out
}

function data() {
  const r = random(14)
  const users = new Float32Array(USERS * DIM)
  for (let j = 0; j < users.length; j++) users[j] = (r() - 0.5) / 10
  const items = new Float32Array(ITEMS * DIM)
  for (let j = 0; j < items.length; j++) items[j] = (r() - 0.5) / 10
  const batches = []
  for (let b = 0; b < 4; b++) batches.push({ u: ids(r, BATCH, USERS), p: ids(r, BATCH, ITEMS), n: ids(r, BATCH, ITEMS) })
  return { users, items, batches }
}

const score = (a, b) => tf.sum(tf.mul(a, b), 1)

/** Contenders: each makes { step(batch tensors), tables, dispose } from fresh tables. */
const contenders = {
  sparseAdam: (users, items) => {
    const opt = sparseAdam(tf, { learningRate: LR })
    return {
      step: ({ u, p, n }) => {
        const loss = opt.minimize(
          [
            { table: users, ids: u },
            { table: items, ids: p },
            { table: items, ids: n },
          ],
          ([ru, rp, rn]) => bprLoss(tf, score(ru, rp), score(ru, rn)),
        )
        loss.dataSync()
        loss.dispose()
      },
      dispose: () => opt.dispose(),
    }
  },
  'tf.train.adam': (users, items) => {
    const opt = tf.train.adam(LR)
    return {
      step: ({ u, p, n }) => {
        const loss = opt.minimize(
          () => {
            const ru = embeddingLookup(tf, users, u)
            return bprLoss(tf, score(ru, embeddingLookup(tf, items, p)), score(ru, embeddingLookup(tf, items, n)))
          },
          true,
          [users, items],
        )
        loss.dataSync()
        loss.dispose()
      },
      dispose: () => opt.dispose(),
    }
  },
}

function tables(d) {
  return [tf.variable(tf.tensor2d(d.users.slice(), [USERS, DIM])), tf.variable(tf.tensor2d(d.items.slice(), [ITEMS, DIM]))]
}

function batchTensors(b) {
  return { u: tf.tensor1d(b.u, 'int32'), p: tf.tensor1d(b.p, 'int32'), n: tf.tensor1d(b.n, 'int32') }
}

/** One step of each contender from the same tables: every row must agree (see the header). */
function check(d) {
  const after = {}
  const batch = batchTensors(d.batches[0])
  for (const name of Object.keys(contenders)) {
    const [users, items] = tables(d)
    const c = contenders[name](users, items)
    try {
      c.step(batch)
      after[name] = { users: users.dataSync().slice(), items: items.dataSync().slice() }
    } catch (error) {
      after[name] = { problem: `not timed: ${error.message.split('\n')[0]}` }
    } finally {
      c.dispose()
      tf.dispose([users, items])
    }
  }
  tf.dispose(Object.values(batch))
  const problems = {}
  const base = after['tf.train.adam']
  for (const [name, a] of Object.entries(after)) {
    if (a.problem) {
      problems[name] = a.problem
      continue
    }
    let worst = 0
    for (const key of ['users', 'items']) {
      for (let j = 0; j < a[key].length; j++) worst = Math.max(worst, Math.abs(a[key][j] - base[key][j]))
    }
    if (worst > 1e-5) problems[name] = `not timed: differs from tf.train.adam after one step by ${worst}`
  }
  // The sparse step leaves rows outside the batch bit-identical.
  const touched = new Set([...d.batches[0].p, ...d.batches[0].n])
  const s = after.sparseAdam
  if (!s.problem) {
    for (let row = 0; row < ITEMS; row++) {
      if (touched.has(row)) continue
      for (let k = row * DIM; k < (row + 1) * DIM; k++) {
        if (!Object.is(s.items[k], d.items[k])) {
          problems.sparseAdam = `not timed: untouched item row ${row} changed`
          row = ITEMS
          break
        }
      }
    }
  }
  return problems
}

function time(name, d) {
  const [users, items] = tables(d)
  const c = contenders[name](users, items)
  const batches = d.batches.map(batchTensors)
  c.step(batches[0]) // warm-up: kernel set-up, slot allocation
  const times = []
  const budget = performance.now() + SECONDS * 1000
  while (times.length < 3 || (times.length < MAX_STEPS && performance.now() < budget)) {
    const t0 = performance.now()
    c.step(batches[times.length % batches.length])
    times.push(performance.now() - t0)
  }
  c.dispose()
  tf.dispose([users, items, ...batches.flatMap((b) => Object.values(b))])
  times.sort((a, b) => a - b)
  return { ms: times[Math.floor(times.length / 2)], best: times[0], steps: times.length }
}

/**
 * The optimizer update alone, given the item table's row gradients of one batch (B positives
 * and B negatives): sparseAdam.step on the rows vs tf.train.adam.applyGradients on the dense
 * [ITEMS, DIM] gradient (built once, not timed). Checked as above after one step.
 */
function updateOnly(d) {
  const b = d.batches[0]
  const ids = tf.tensor1d(Int32Array.from([...b.p, ...b.n]), 'int32')
  const r = random(99)
  const g = tf.tensor2d(Float32Array.from({ length: 2 * BATCH * DIM }, () => r() - 0.5), [2 * BATCH, DIM])
  const dense = tf.scatterND(tf.reshape(ids, [-1, 1]), g, [ITEMS, DIM])
  const make = {
    sparseAdam: (items) => {
      const opt = sparseAdam(tf, { learningRate: LR })
      return { step: () => opt.step(items, ids, g), dispose: () => opt.dispose() }
    },
    'tf.train.adam': (items) => {
      const opt = tf.train.adam(LR)
      return { step: () => opt.applyGradients({ [items.name]: dense }), dispose: () => opt.dispose() }
    },
  }
  const after = {}
  for (const [name, f] of Object.entries(make)) {
    const items = tf.variable(tf.tensor2d(d.items.slice(), [ITEMS, DIM]))
    const c = f(items)
    c.step()
    after[name] = items.dataSync().slice()
    c.dispose()
    items.dispose()
  }
  let worst = 0
  for (let j = 0; j < after.sparseAdam.length; j++) worst = Math.max(worst, Math.abs(after.sparseAdam[j] - after['tf.train.adam'][j]))
  const results = {}
  for (const [name, f] of Object.entries(make)) {
    if (worst > 1e-5) {
      results[name] = { problem: `not timed: sparse and dense differ after one step by ${worst}` }
      continue
    }
    const items = tf.variable(tf.tensor2d(d.items.slice(), [ITEMS, DIM]))
    const c = f(items)
    c.step()
    items.dataSync()
    const times = []
    const budget = performance.now() + SECONDS * 1000
    while (times.length < 3 || (times.length < MAX_STEPS && performance.now() < budget)) {
      const t0 = performance.now()
      c.step()
      items.dataSync()
      times.push(performance.now() - t0)
    }
    c.dispose()
    items.dispose()
    times.sort((x, y) => x - y)
    results[name] = { ms: times[Math.floor(times.length / 2)], best: times[0], steps: times.length }
  }
  tf.dispose([ids, g, dense])
  return results
}

const d = data()
const rows = []
const updateRows = []
for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend)
  await tf.ready()
  const problems = check(d)
  const results = {}
  for (const name of Object.keys(contenders)) results[name] = problems[name] ? { problem: problems[name] } : time(name, d)
  const base = results.sparseAdam.ms
  for (const [name, r] of Object.entries(results)) {
    rows.push({
      backend,
      contender: name,
      'ms/step (median)': r.problem ? '-' : +r.ms.toFixed(1),
      'best ms': r.problem ? '-' : +r.best.toFixed(1),
      steps: r.problem ? 0 : r.steps,
      'x sparseAdam': r.problem || !Number.isFinite(base) ? '-' : +(r.ms / base).toFixed(2),
      note: r.problem ?? '',
    })
  }
  const updates = updateOnly(d)
  for (const [name, r] of Object.entries(updates)) {
    updateRows.push({
      backend,
      contender: name,
      'ms/update (median)': r.problem ? '-' : +r.ms.toFixed(1),
      'best ms': r.problem ? '-' : +r.best.toFixed(1),
      steps: r.problem ? 0 : r.steps,
      'x sparseAdam': r.problem || updates.sparseAdam.problem ? '-' : +(r.ms / updates.sparseAdam.ms).toFixed(2),
      note: r.problem ?? '',
    })
  }
}

console.log(
  `\n### one BPR step with Adam: batch ${BATCH}, one negative, dim ${DIM}, ${ITEMS} items, ${USERS} users${QUICK ? ' (quick)' : ''}`,
)
console.log('checked before timing: after one step, sparse and dense Adam agree on every row (|diff| <= 1e-5) and the sparse step leaves untouched rows bit-identical')
console.table(rows)

console.log(`\n### the Adam update alone: ${2 * BATCH} item-row gradients (positives and negatives, duplicates included) on the ${ITEMS} x ${DIM} item table${QUICK ? ' (quick)' : ''}`)
console.log('sparseAdam.step(items, ids, rowGrads) vs tf.train.adam applyGradients with the dense gradient (built once, not timed); checked: equal after one step')
console.table(updateRows)
