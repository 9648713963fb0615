// Per-step time of an embedding lookup in a training step, three ways, on the tfjs CPU and
// WASM backends in one run:
//
//   fast       negsample/tfjs embeddingLookup (gradient: one scatterND over the batch)
//   tf.gather  tf.gather(table, ids)            (gradient: unsortedSegmentSum over the vocabulary)
//   layers     tf.layers.embedding               (uses tf.gather inside)
//
// A step is what a matrix-factorisation trainer does per batch for one table: look up `batch`
// rows of a [vocab, dim] table, take a loss (sum of rows * a fixed random tensor), compute the
// gradient and apply plain SGD. Before timing, every contender's gradient is checked against a
// reference computed in plain JavaScript (a contender that fails is reported, not timed).
//
//   npm run build && node benches/tfjs-embedding.bench.mjs [--quick]
//
// Results go to stdout as a table; BENCHMARKS.md records a run.

import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { embeddingLookup, embeddingLayer } from '../dist/tfjs.js'
import { mulberry32 as random } from './lib/data.mjs'

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const QUICK = args.quick
const DIM = 64
const BATCH = QUICK ? 256 : 1024
const VOCABS = QUICK ? [1000] : [1000, 17388]
// tf.gather's gradient on the CPU backend costs vocab x batch x dim: above this vocabulary a
// step takes minutes, so those contenders are timed at the smaller size only.
const SLOW_VOCAB_LIMIT = 2000
const SLOW = new Set(['tf.gather', 'tf.layers.embedding'])
const SECONDS = QUICK ? 0.3 : 2 // time budget per contender and size
const MAX_STEPS = 50


function inputs(vocab) {
  const r = random(vocab)
  const ids = new Int32Array(BATCH)
  for (let j = 0; j < BATCH; j++) ids[j] = Math.floor(r() * vocab)
  const w = new Float32Array(BATCH * DIM)
  for (let j = 0; j < w.length; j++) w[j] = r() - 0.5
  const table = new Float32Array(vocab * DIM)
  for (let j = 0; j < table.length; j++) table[j] = (r() - 0.5) / 10
  return { ids, w, table }
}

/** The gradient of sum(table[ids] * w) with respect to the table, in plain JavaScript. */
function referenceGradient(vocab, ids, w) {
  const g = new Float64Array(vocab * DIM)
  for (let j = 0; j < ids.length; j++) {
    for (let d = 0; d < DIM; d++) g[ids[j] * DIM + d] += w[j * DIM + d]
  }
  return g
}

/** Contenders: each returns { variables, rows(ids) } for one table. */
const contenders = {
  fast: (table) => {
    const v = tf.variable(table)
    return { variables: [v], rows: (ids) => embeddingLookup(tf, v, ids), dispose: () => v.dispose() }
  },
  'tf.gather': (table) => {
    const v = tf.variable(table)
    return { variables: [v], rows: (ids) => tf.gather(v, ids), dispose: () => v.dispose() }
  },
  'tf.layers.embedding': (table, vocab) => {
    const layer = tf.layers.embedding({ inputDim: vocab, outputDim: DIM, weights: [table] })
    layer.build([null])
    return {
      variables: layer.trainableWeights.map((w) => w.read()),
      rows: (ids) => layer.apply(ids),
      dispose: () => tf.dispose(layer.getWeights().length ? [] : []),
    }
  },
  'fast layer (embeddingLayer)': (table, vocab) => {
    const layer = embeddingLayer(tf, { inputDim: vocab, outputDim: DIM })
    layer.build([null])
    layer.setWeights([table])
    return {
      variables: layer.trainableWeights.map((w) => w.read()),
      rows: (ids) => layer.apply(ids),
      dispose: () => tf.dispose(layer.getWeights().length ? [] : []),
    }
  },
}

function check(name, vocab, data) {
  const table = tf.tensor2d(data.table, [vocab, DIM])
  const c = contenders[name](table, vocab)
  const ids = tf.tensor1d(data.ids, 'int32')
  const w = tf.tensor2d(data.w, [BATCH, DIM])
  try {
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(c.rows(ids), w)), c.variables)
    const got = Object.values(grads)[0].dataSync()
    const want = referenceGradient(vocab, data.ids, data.w)
    let worst = 0
    for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(got[j] - want[j]))
    tf.dispose(grads)
    return worst < 1e-4 ? null : `not timed: gradient differs from the reference by ${worst}`
  } catch (error) {
    return `not timed: ${error.message.split('\n')[0]}`
  } finally {
    c.dispose()
    tf.dispose([table, ids, w])
  }
}

function time(name, vocab, data) {
  const table = tf.tensor2d(data.table, [vocab, DIM])
  const c = contenders[name](table, vocab)
  const ids = tf.tensor1d(data.ids, 'int32')
  const w = tf.tensor2d(data.w, [BATCH, DIM])
  const optimizer = tf.train.sgd(0.01)
  const step = () => {
    const loss = optimizer.minimize(() => tf.sum(tf.mul(c.rows(ids), w)), true, c.variables)
    loss.dataSync()
    loss.dispose()
  }
  // Warm-up (kernel set-up, first allocation). A contender slower than the whole budget per
  // step is reported from this one step: set-up is negligible next to it.
  const t0 = performance.now()
  step()
  const first = performance.now() - t0
  if (first > SECONDS * 1000) {
    optimizer.dispose()
    c.dispose()
    tf.dispose([table, ids, w])
    return { ms: first, steps: 1 }
  }
  const times = []
  const budget = performance.now() + SECONDS * 1000
  while (times.length < 2 || (times.length < MAX_STEPS && performance.now() < budget)) {
    const t0 = performance.now()
    step()
    times.push(performance.now() - t0)
  }
  optimizer.dispose()
  c.dispose()
  tf.dispose([table, ids, w])
  times.sort((a, b) => a - b)
  return { ms: times[Math.floor(times.length / 2)], steps: times.length }
}

const rows = []
for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend)
  await tf.ready()
  for (const vocab of VOCABS) {
    const data = inputs(vocab)
    const results = {}
    for (const name of Object.keys(contenders)) {
      if (backend === 'cpu' && SLOW.has(name) && vocab > SLOW_VOCAB_LIMIT) {
        results[name] = { problem: `skipped above vocab ${SLOW_VOCAB_LIMIT} (cost grows with vocab x batch; see the smaller size)` }
        continue
      }
      const problem = check(name, vocab, data)
      results[name] = problem ? { problem } : time(name, vocab, data)
    }
    const base = results.fast.ms
    for (const [name, r] of Object.entries(results)) {
      rows.push({
        backend,
        vocab,
        contender: name,
        'ms/step': r.problem ? '-' : +r.ms.toFixed(2),
        steps: r.problem ? 0 : r.steps,
        'x fast': r.problem ? '-' : +(r.ms / base).toFixed(1),
        note: r.problem ?? '',
      })
    }
  }
}

console.log(`embedding lookup + gradient + SGD, batch ${BATCH}, dim ${DIM} (median ms per step)`)
console.table(rows)
