// Hard negatives (DNS) throughput: negsample against the same selection written with
// TensorFlow.js ops (gather, matMul, topk) on the pure-JavaScript CPU backend and on the WASM
// backend, in the same run.
//
//   npm run build && node benches/hard-negatives.bench.mjs [--positives N] [--rounds R]
//
// Setup: 40,000 items, 10,000 users with 5 to 60 positives each (item popularity Zipf 1.0),
// popularity^0.75 proposal, dim = 64, M = 32 candidates, k = 1 negative per positive, batches
// of 16,384 positives.
//
// What is timed:
//   negsample: everything: drawing M candidates per positive from the proposal with exclusion of
//              the user's positives, scoring them (SIMD dot products), keeping the best; on one
//              thread (`parallel: false`) and on all cores.
//   tfjs:      only the scoring and the selection, on candidates handed to it (the ones negsample
//              drew): tensor from the candidate ids, gather of user and candidate rows, batched
//              matMul, topk, gather of the winners, and reading the result back. Embedding
//              tensors are made once, outside the timing, as a trainer holds them.
// Before timing, every implementation's output is checked against negsample's on the same
// candidates: the same negative wherever the best score leads the runner-up by more than 1e-4
// (closer calls may differ by float rounding: their scores must then agree within 1e-4).
//
// Each figure is the median of R rounds (default 7; 2 with --quick) of wall time per call, each
// round repeating the call for at least 0.25 s (0.05 s with --quick); CPU time of the whole
// process (process.cpuUsage) per call is printed as well, with the cores' worth of CPU the
// process used (about 1 for a one-thread call on a quiet machine), since the machine may be
// shared. negsample is timed before tfjs is loaded (so V8's background work for tfjs is not
// counted against it).

import { cpus, loadavg } from 'node:os'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import negsample from '../dist/index.js'

const { Interactions, Sampler, hardNegatives, hardNegativesInto, dotProductPath } = negsample
const require = createRequire(import.meta.url)

const { values: args } = parseArgs({
  options: {
    positives: { type: 'string' },
    rounds: { type: 'string' },
    // `npm run bench -- --quick` (CI smoke): a smaller batch and fewer rounds.
    quick: { type: 'boolean', default: process.env.NEGSAMPLE_BENCH_QUICK === '1' },
  },
})
const BATCH = Number(args.positives ?? (args.quick ? 2048 : 16384))
const ROUNDS = Number(args.rounds ?? (args.quick ? 2 : 7))
const NUM_ITEMS = 40_000
const NUM_USERS = 10_000
const DIM = 64
const M = 32
const K = 1

function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function dataset() {
  const random = mulberry32(7)
  const cdf = new Float64Array(NUM_ITEMS)
  let total = 0
  for (let i = 0; i < NUM_ITEMS; i++) cdf[i] = total += 1 / (i + 1)
  const users = []
  const items = []
  for (let u = 0; u < NUM_USERS; u++) {
    const count = 5 + Math.floor(55 * random() ** 2)
    for (let j = 0; j < count; j++) {
      const x = random() * total
      let lo = 0
      let hi = NUM_ITEMS - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (cdf[mid] <= x) lo = mid + 1
        else hi = mid
      }
      users.push(u)
      items.push(lo)
    }
  }
  const train = Interactions.fromCoo(Int32Array.from(users), Int32Array.from(items), { numUsers: NUM_USERS, numItems: NUM_ITEMS })
  const gauss = () => (random() + random() + random() - 1.5) * 0.5
  const userEmbeddings = Float32Array.from({ length: NUM_USERS * DIM }, gauss)
  const itemEmbeddings = Float32Array.from({ length: NUM_ITEMS * DIM }, gauss)
  return { train, userEmbeddings, itemEmbeddings }
}

/** A rate as "1.23 M" or "12,345". */
function rate(x) {
  return x >= 1e5 ? `${(x / 1e6).toFixed(2)} M` : Math.round(x).toLocaleString('en-US')
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Seconds of wall time each timed round lasts at least (calls are repeated within a round). */
const ROUND_SECONDS = args.quick ? 0.05 : 0.25

/**
 * Runs `fn` (sync or async) ROUNDS times after a warm-up; returns the median wall and CPU
 * seconds of ONE call, and how many cores' worth of CPU the process used while it ran.
 *
 * Each round repeats `fn` until it has lasted ROUND_SECONDS: `process.cpuUsage` counts the CPU
 * time of every thread of the process, as the kernel accounts it, and over a single call of a
 * few milliseconds that reading is dominated by what other threads happened to do (V8's
 * background compilation and garbage collection after tfjs ran, for instance), so a one-thread
 * call could show more CPU time than wall time. Over a quarter of a second it is the call's own.
 */
async function time(fn) {
  // Warm-up, and how many calls make a round.
  let calls = 0
  const w0 = process.hrtime.bigint()
  do {
    await fn()
    calls++
  } while (Number(process.hrtime.bigint() - w0) / 1e9 < ROUND_SECONDS)
  const walls = []
  const cpu = []
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) await fn()
    walls.push(Number(process.hrtime.bigint() - t0) / 1e9 / calls)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1e6 / calls)
  }
  const wall = median(walls)
  return { wall, cpu: median(cpu), best: Math.min(...walls), cores: median(cpu) / wall, calls }
}

function dot(a, ai, b, bi) {
  let s = 0
  for (let d = 0; d < DIM; d++) s += a[ai * DIM + d] * b[bi * DIM + d]
  return s
}

/**
 * Checks `got` (one negative per positive) against negsample's choice `want` on the same
 * candidates: equal where the best score leads by more than 1e-4, else equally good.
 */
function verify(label, got, want, users, candidates, ue, ie) {
  let same = 0
  let closeCalls = 0
  for (let j = 0; j < users.length; j++) {
    if (got[j] === want[j]) {
      same++
      continue
    }
    const u = users[j]
    const scores = Array.from(candidates.subarray(j * M, (j + 1) * M), (c) => dot(ue, u, ie, c)).sort((a, b) => b - a)
    const gotScore = dot(ue, u, ie, got[j])
    const wantScore = dot(ue, u, ie, want[j])
    if (scores[0] - scores[1] > 1e-4 || Math.abs(gotScore - wantScore) > 1e-4) {
      throw new Error(`${label}: positive ${j} chose ${got[j]} (score ${gotScore}), negsample chose ${want[j]} (score ${wantScore})`)
    }
    closeCalls++
  }
  console.log(`  verified ${label}: ${same} of ${users.length} identical, ${closeCalls} near-ties (within 1e-4) differ`)
}

async function tfjsRunner(tf, backend, train, ue, ie) {
  await tf.setBackend(backend)
  await tf.ready()
  const userTable = tf.tensor2d(ue, [train.numUsers, DIM])
  const itemTable = tf.tensor2d(ie, [train.numItems, DIM])
  return {
    /** The selection with tfjs ops; returns the chosen negative of each positive. */
    async select(users, candidates) {
      const out = tf.tidy(() => {
        const cand = tf.tensor2d(candidates, [users.length, M], 'int32')
        const u = tf.gather(userTable, tf.tensor1d(users, 'int32')).reshape([users.length, DIM, 1])
        const rows = tf.gather(itemTable, cand.reshape([-1])).reshape([users.length, M, DIM])
        const scores = tf.matMul(rows, u).reshape([users.length, M])
        const { indices } = tf.topk(scores, K)
        // The winner's id: flat position j * M + index (the WASM backend's batched gather
        // fails, so both backends use a flat one).
        const flat = tf.add(tf.range(0, users.length * M, M, 'int32').reshape([users.length, 1]), indices)
        return tf.gather(cand.reshape([-1]), flat.reshape([-1]))
      })
      const result = await out.data()
      out.dispose()
      return result
    },
    dispose() {
      userTable.dispose()
      itemTable.dispose()
    },
  }
}

async function main() {
  const { train, userEmbeddings: ue, itemEmbeddings: ie } = dataset()
  const sampler = new Sampler(train, { proposal: 'popularity', alpha: 0.75, seed: 1 })
  // A batch of training positives, in shuffled order, as an epoch would give them.
  const order = sampler.epoch({ batchSize: BATCH }).next().value
  const users = order.users
  const positives = order.positives
  const n = users.length
  const options = { candidates: M, negatives: K, userEmbeddings: ue, itemEmbeddings: ie, dim: DIM }

  console.log(`hard negatives: ${n} positives per call, M = ${M}, k = ${K}, dim = ${DIM}, ${NUM_ITEMS} items, ${NUM_USERS} users, ${train.nnz} interactions`)
  console.log(`  cpu: ${cpus()[0]?.model} x ${cpus().length}, dot path ${dotProductPath()}, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)

  // Reference output and its candidates.
  const reference = hardNegatives(sampler, users, positives, { ...options, returnCandidates: true })
  const candidates = reference.candidates
  for (let j = 0; j < n; j++) {
    const scored = Array.from(candidates.subarray(j * M, (j + 1) * M), (c) => dot(ue, users[j], ie, c))
    const best = Math.max(...scored)
    if (Math.abs(best - reference.scores[j]) > 1e-4) throw new Error(`negsample: positive ${j} is not the best candidate`)
    const row = train.row(users[j])
    if (row.includes(reference.negatives[j])) throw new Error(`negsample: positive ${j} got a positive as negative`)
  }
  console.log(`  verified negsample: every negative is the best of its ${M} candidates and never a positive`)

  // negsample is timed before tfjs is loaded, so that no background work of V8 for tfjs (WASM
  // tier-up compilation, garbage collection of its tensors) runs in the same process meanwhile.
  // The option objects are made once: the timed closure is the library call alone.
  const out = { negatives: new Int32Array(n * K), scores: new Float32Array(n * K) }
  const oneThread = { ...options, parallel: false }
  const allCores = { ...options, parallel: true }
  const one = await time(() => hardNegativesInto(sampler, users, positives, oneThread, out))
  const all = await time(() => hardNegativesInto(sampler, users, positives, allCores, out))
  // The last timed call (a later call number, so other candidates): still never a positive, and
  // each score is its negative's.
  for (let j = 0; j < n; j++) {
    if (train.row(users[j]).includes(out.negatives[j])) throw new Error(`negsample (timed): positive ${j} got a positive as negative`)
    if (Math.abs(dot(ue, users[j], ie, out.negatives[j]) - out.scores[j]) > 1e-4) throw new Error(`negsample (timed): positive ${j}'s score is not its negative's`)
  }

  const tf = require('@tensorflow/tfjs')
  const wasm = require('@tensorflow/tfjs-backend-wasm')
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'))
  const runners = {}
  for (const backend of ['cpu', 'wasm']) {
    const runner = await tfjsRunner(tf, backend, train, ue, ie)
    verify(`tfjs-${backend}`, await runner.select(users, candidates), reference.negatives, users, candidates, ue, ie)
    runners[backend] = runner
  }

  const results = []
  results.push(['negsample, 1 thread (draws + scores + selection)', one])
  results.push([`negsample, all cores (${cpus().length})`, all])
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend)
    const r = await time(() => runners[backend].select(users, candidates))
    results.push([`tfjs ${backend} backend (scores + selection only)`, r])
  }
  console.log('')
  console.log('| implementation | positives/s (wall) | positives/s (CPU time) | best round (wall) | cores used | negsample 1 thread faster by (wall) | (CPU time) |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const [label, r] of results) {
    const tfjs = label.startsWith('tfjs')
    console.log(
      `| ${label} | ${rate(n / r.wall)} | ${rate(n / r.cpu)} | ${rate(n / r.best)} | ${r.cores.toFixed(2)} | ${tfjs ? (r.wall / one.wall).toFixed(1) + 'x' : ''} | ${tfjs ? (r.cpu / one.cpu).toFixed(1) + 'x' : ''} |`,
    )
  }
  const fasterTf = Math.min(results[2][1].wall, results[3][1].wall)
  console.log('')
  console.log(`target >= 2.00 M positives/s on one thread: ${rate(n / one.wall)} wall, ${rate(n / one.cpu)} CPU time (${n / one.wall >= 2e6 ? 'met' : 'NOT met'})`)
  const fasterTfCpu = Math.min(results[2][1].cpu, results[3][1].cpu)
  console.log(
    `target >= 20x the faster tfjs backend: ${(fasterTf / one.wall).toFixed(1)}x wall, ${(fasterTfCpu / one.cpu).toFixed(1)}x CPU time (${fasterTf / one.wall >= 20 && fasterTfCpu / one.cpu >= 20 ? 'met' : 'NOT met'})`,
  )
  for (const r of Object.values(runners)) r.dispose()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
