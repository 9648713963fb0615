#!/usr/bin/env node
// Soak test of the built package (dist/ and the release addon in native/).
//
//   node --expose-gc scripts/soak.mjs [--calls N] [--json]
//
// Default N = 1,000,000 sampling calls (the long run of `npm run
// test:reliability`); __test__/soak.spec.ts runs it with a small N in CI.
//
// 1. Leak check: N calls, half synchronous (negatives, negativesInto,
//    pairwise, pointwiseInto in turn), half asynchronous (negativesAsync,
//    pairwiseAsync, pointwiseAsync, at most 64 in flight), 256 users x k = 4
//    each. RSS is read after a full gc() once a warm-up of 20,000 calls has
//    settled the allocator and the JIT, at every tenth of the run, and at
//    the end. Bound: RSS may grow by at most RSS_BOUND_MIB = 48 MiB over the
//    run, whatever N (with N = 10^6 that is under 51 bytes per call: a leak
//    of one small allocation per call would break it). Every 1,000th call's
//    output is checked: no negative is a positive of its user.
//    Then 100,000 more synchronous calls in a loop that never yields
//    to the event loop, with RSS read right after it: same bound.
//    Then two more such loops, same bound each: N / 50 synchronous
//    `sampledSoftmax` calls (256 positives, 256 sampled candidates, with the
//    hit mask of 256 users: 260 KiB of results per call) and N / 100
//    synchronous `evaluate` calls (256 users of a 2,000 x 500 matrix, dim 8,
//    top 50 items returned: 56 KiB per call), results dropped at once. With
//    results in external buffers these held every result until the loop
//    ended (+1.3 GiB at N = 10^6 for sampledSoftmax alone, far over the
//    bound); V8-owned results are freed by the garbage collector. And
//    N / 500 calls of the matrix getters (indices, indptr, popularity in
//    turn: up to 540 KiB each), same bound.
// 2. Concurrency: 2,000 async calls fired at once from as many Promises,
//    each with its own users, are compared with the same calls made
//    synchronously, in the same order, on a sampler with the same seed
//    (call numbers are taken when a call is made, so they must agree
//    exactly); their outputs must also differ from one another.
// 3. A sampler whose JavaScript object is dropped while 16 large async jobs
//    run: full GCs are forced while the jobs are pending, the jobs must
//    resolve to the right output, and the object must be collected once they
//    have settled (a WeakRef tells). (napi-rs keeps the object of a pending
//    call reachable until the call settles; the engine's sampler is held by
//    the jobs' Arc either way.)
//
// 4. Files: the soak matrix saved to a binary file (with its popularity
//    table) and opened N / 200 times (at least 200), with and without
//    verification, each time sampling one checked batch from it and then
//    dropping it. After full GCs no mapping of the file may remain (Linux:
//    /proc/self/maps), the open descriptors must be back to their count
//    before the loop (/proc/self/fd), and RSS may grow by at most the bound
//    (measured after a warm-up of 100 opens).
// 5. Tensors (where @tensorflow/tfjs is installed): N / 200 training steps (at
//    least 200) on the CPU backend through negsample/tfjs, pairwise BPR and
//    pointwise binary cross-entropy in turn, each batch drawn by the sampler,
//    turned into tensors, looked up in two embedding tables and minimised,
//    its tensors disposed; then the same number of batches of
//    `samplerDataset` consumed and disposed. tf.memory().numTensors must be
//    the same after the last step as after the tenth, and back to its count
//    before the dataset once it is consumed; RSS may grow by at most the bound
//    from the tenth step on.
// 6. Threads: N / 1,000 calls (at least 100) of 20,000 users x k = 4 (80,000
//    outputs: above the 65,536 from which a call is split over the pool) on a
//    2-thread sampler, synchronous and asynchronous in turn, each compared
//    with the same call on a 1-thread sampler of the same seed; RSS may grow
//    by at most the bound.
//
// Prints a report (or JSON with --json); exits 1 if any check fails.
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { Dataset, Interactions, Sampler, openDataset, sampledSoftmax, evaluate } = require(path.join(root, 'dist/index.js'))
const native = require(path.join(root, 'native/index.js'))

const RSS_BOUND_MIB = 48
const WARMUP = 20_000

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const j = args.indexOf(name)
  return j >= 0 ? Number(args[j + 1]) : fallback
}
const CALLS = option('--calls', 1_000_000)
const JSON_OUT = args.includes('--json')

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc')
  process.exit(2)
}

/** mulberry32, for test inputs only. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// 3,000 users over 5,000 items, skewed popularity; users 0..9 heavy (they
// hold the 1,500 most popular items: the complement path).
const NUM_USERS = 3000
const NUM_ITEMS = 5000
const next = prng(7)
const cooUsers = []
const cooItems = []
for (let j = 0; j < 120_000; j++) {
  cooUsers.push(10 + Math.floor(next() * (NUM_USERS - 10)))
  cooItems.push(Math.floor(next() ** 2 * NUM_ITEMS))
}
for (let u = 0; u < 10; u++) for (let i = 0; i < 1500; i++) cooUsers.push(u), cooItems.push(i)
const matrix = Interactions.fromCoo(Int32Array.from(cooUsers), Int32Array.from(cooItems), { numUsers: NUM_USERS, numItems: NUM_ITEMS })
const rowSets = Array.from({ length: NUM_USERS }, (_, u) => new Set(matrix.row(u)))

const failures = []
function check(condition, message) {
  if (!condition) failures.push(message)
}

function checkExcluded(users, negatives, k, label) {
  for (let j = 0; j < negatives.length; j++) {
    if (rowSets[users[Math.floor(j / k)]].has(negatives[j])) {
      failures.push(`${label}: negative ${negatives[j]} is a positive of user ${users[Math.floor(j / k)]}`)
      return
    }
  }
}

function mib(bytes) {
  return Math.round((bytes / 2 ** 20) * 10) / 10
}

/** RSS after the event loop has turned (so pending finalizers of external buffers ran) and a full gc(). */
async function settledRss() {
  globalThis.gc()
  await new Promise((resolve) => setTimeout(resolve, 20))
  globalThis.gc()
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }
}

// ------------------------------------------------------------ 1. leak check

const BATCH = 256
const K = 4
const batches = Array.from({ length: 64 }, () => {
  const users = new Int32Array(BATCH)
  const items = new Int32Array(BATCH)
  for (let j = 0; j < BATCH; j++) {
    const u = Math.floor(next() * NUM_USERS)
    const row = matrix.row(u)
    users[j] = u
    items[j] = row.length > 0 ? row[Math.floor(next() * row.length)] : 0
  }
  return { users, items }
})
const sampler = new Sampler(matrix, { proposal: 'popularity', seed: 2024 })
const outNeg = new Int32Array(BATCH * K)
const outPoint = { users: new Int32Array(BATCH * (K + 1)), items: new Int32Array(BATCH * (K + 1)), labels: new Float32Array(BATCH * (K + 1)) }

function syncCall(j) {
  const { users, items } = batches[j % batches.length]
  switch (j % 4) {
    case 0: {
      const out = sampler.negatives(users, K)
      if (j % 1000 === 0) checkExcluded(users, out, K, `sync call ${j}`)
      break
    }
    case 1:
      sampler.negativesInto(users, K, outNeg)
      if (j % 1000 === 1) checkExcluded(users, outNeg, K, `sync call ${j}`)
      break
    case 2: {
      const b = sampler.pairwise(users, items, K)
      if (j % 1000 === 2) checkExcluded(users, b.negatives, K, `sync call ${j}`)
      break
    }
    default:
      sampler.pointwiseInto(users, items, K, outPoint)
  }
}

async function asyncCall(j) {
  const { users, items } = batches[j % batches.length]
  switch (j % 3) {
    case 0: {
      const out = await sampler.negativesAsync(users, K)
      if (j % 1000 === 0) checkExcluded(users, out, K, `async call ${j}`)
      break
    }
    case 1: {
      const b = await sampler.pairwiseAsync(users, items, K)
      if (j % 1000 === 1) checkExcluded(users, b.negatives, K, `async call ${j}`)
      break
    }
    default:
      await sampler.pointwiseAsync(users, items, K)
  }
}

async function runAsync(from, to, inFlight = 64) {
  let j = from
  const lanes = Array.from({ length: inFlight }, async () => {
    while (j < to) await asyncCall(j++)
  })
  await Promise.all(lanes)
}

const started = Date.now()
for (let j = 0; j < WARMUP / 2; j++) syncCall(j)
await runAsync(0, WARMUP / 2)
const before = await settledRss()
const samples = [{ calls: 0, rss: before.rss }]
const half = Math.floor(CALLS / 2)
const tenth = Math.max(1, Math.floor(CALLS / 10))
let done = 0
while (done < half) {
  const stop = Math.min(half, done + tenth)
  for (let j = done; j < stop; j++) syncCall(j)
  done = stop
  samples.push({ calls: done, rss: (await settledRss()).rss })
}
// A synchronous loop that never yields to the event loop (as a training loop
// with synchronous work does): fresh results must be freed by the garbage
// collector alone (regression test of finding 1 in RELIABILITY.md).
const noYieldCalls = 100_000
globalThis.gc()
const noYieldBefore = process.memoryUsage().rss
for (let j = 0; j < noYieldCalls; j++) {
  const { users } = batches[j % batches.length]
  const out = sampler.negatives(users, K)
  if (j % 1000 === 0) checkExcluded(users, out, K, `no-yield call ${j}`)
}
globalThis.gc()
const noYieldGrowth = process.memoryUsage().rss - noYieldBefore
check(
  noYieldGrowth <= RSS_BOUND_MIB * 2 ** 20,
  `RSS grew by ${mib(noYieldGrowth)} MiB over ${noYieldCalls} synchronous calls that never yielded (bound ${RSS_BOUND_MIB} MiB)`,
)

// The same for sampledSoftmax and evaluate (their results used to be
// external buffers too: see `owned.rs` in the binding).
function noYieldLoop(calls, call) {
  globalThis.gc()
  const rssBefore = process.memoryUsage().rss
  for (let j = 0; j < calls; j++) call(j)
  globalThis.gc()
  return process.memoryUsage().rss - rssBefore
}
const softmaxCalls = Math.max(1, Math.floor(CALLS / 50))
const softmaxPositives = batches[0].items
const softmaxUsers = batches[0].users
let softmaxChecked = 0
const softmaxGrowth = noYieldLoop(softmaxCalls, (j) => {
  const r = sampledSoftmax(sampler, softmaxPositives, { numSampled: 256, users: softmaxUsers })
  if (j % 500 === 0) {
    softmaxChecked++
    check(r.candidates.length === 256 && r.hits.length === 256 * 256, `sampledSoftmax call ${j}: wrong result sizes`)
    // The hit mask marks exactly the candidates that are positives of the row's user or its own positive.
    for (let row = 0; row < 256; row += 37) {
      for (let c = 0; c < 256; c++) {
        const cand = r.candidates[c]
        const hit = rowSets[softmaxUsers[row]].has(cand) || cand === softmaxPositives[row]
        if ((r.hits[row * 256 + c] !== 0) !== hit) {
          failures.push(`sampledSoftmax call ${j}: hit mask wrong at row ${row}, candidate ${c}`)
          return
        }
      }
    }
  }
})
check(
  softmaxGrowth <= RSS_BOUND_MIB * 2 ** 20,
  `RSS grew by ${mib(softmaxGrowth)} MiB over ${softmaxCalls} synchronous sampledSoftmax calls that never yielded (bound ${RSS_BOUND_MIB} MiB)`,
)
const EVAL_USERS = 2000
const EVAL_ITEMS = 500
const EVAL_DIM = 8
const evalNext = prng(31)
const evalTrainPairs = [[], []]
const evalTestPairs = [[], []]
for (let u = 0; u < EVAL_USERS; u++) {
  for (let j = 0; j < 6; j++) {
    const target = j < 5 ? evalTrainPairs : evalTestPairs
    target[0].push(u)
    target[1].push(Math.floor(evalNext() ** 2 * EVAL_ITEMS))
  }
}
const evalTrain = Interactions.fromCoo(Int32Array.from(evalTrainPairs[0]), Int32Array.from(evalTrainPairs[1]), { numUsers: EVAL_USERS, numItems: EVAL_ITEMS })
const evalTest = { users: Int32Array.from(evalTestPairs[0]), items: Int32Array.from(evalTestPairs[1]) }
const evalUserEmb = Float32Array.from({ length: EVAL_USERS * EVAL_DIM }, () => evalNext() - 0.5)
const evalItemEmb = Float32Array.from({ length: EVAL_ITEMS * EVAL_DIM }, () => evalNext() - 0.5)
const evalUsers = Int32Array.from({ length: 256 }, (_, j) => (j * 7) % EVAL_USERS)
const evalCalls = Math.max(1, Math.floor(CALLS / 100))
let evalFirst
const evalGrowth = noYieldLoop(evalCalls, (j) => {
  const r = evaluate(evalTrain, evalTest, evalUserEmb, evalItemEmb, { k: 50, users: evalUsers, topItems: true })
  if (j === 0) evalFirst = r
  else if (j % 500 === 0 && (r.recall.length !== evalFirst.recall.length || r.recall.some((v, i) => v !== evalFirst.recall[i]))) {
    failures.push(`evaluate call ${j}: a different result for the same input`)
  }
})
check(evalFirst !== undefined && evalFirst.topItems.length === 256 * 50, 'evaluate: wrong topItems size')
check(
  evalGrowth <= RSS_BOUND_MIB * 2 ** 20,
  `RSS grew by ${mib(evalGrowth)} MiB over ${evalCalls} synchronous evaluate calls that never yielded (bound ${RSS_BOUND_MIB} MiB)`,
)
// The matrix getters copy whole arrays (indices: 540 KiB here): N / 500
// calls in turn of indices(), indptr() and popularity().
const getterCalls = Math.max(3, Math.floor(CALLS / 500))
const nnz = matrix.nnz
const getterGrowth = noYieldLoop(getterCalls, (j) => {
  const a = j % 3 === 0 ? matrix.indices() : j % 3 === 1 ? matrix.indptr() : matrix.popularity()
  const expectedLength = j % 3 === 0 ? nnz : j % 3 === 1 ? NUM_USERS + 1 : NUM_ITEMS
  if (a.length !== expectedLength) failures.push(`getter call ${j}: length ${a.length}, expected ${expectedLength}`)
})
check(
  getterGrowth <= RSS_BOUND_MIB * 2 ** 20,
  `RSS grew by ${mib(getterGrowth)} MiB over ${getterCalls} synchronous matrix getter calls that never yielded (bound ${RSS_BOUND_MIB} MiB)`,
)

while (done < CALLS) {
  const stop = Math.min(CALLS, done + tenth)
  await runAsync(done, stop)
  done = stop
  samples.push({ calls: done, rss: (await settledRss()).rss })
}
const after = await settledRss()
const growth = after.rss - before.rss
check(growth <= RSS_BOUND_MIB * 2 ** 20, `RSS grew by ${mib(growth)} MiB over ${CALLS} calls (bound ${RSS_BOUND_MIB} MiB)`)
check(
  sampler.calls === WARMUP + CALLS + noYieldCalls + softmaxCalls,
  `calls = ${sampler.calls}, expected ${WARMUP + CALLS + noYieldCalls + softmaxCalls}`,
)
const leakSeconds = (Date.now() - started) / 1000

// ------------------------------------------------------------ 2. concurrency

const CONCURRENT = 2000
const concurrent = new Sampler(matrix, { proposal: 'popularity', seed: 77 })
const reference = new Sampler(matrix, { proposal: 'popularity', seed: 77 })
const requests = Array.from({ length: CONCURRENT }, (_, j) => batches[j % batches.length].users.subarray(0, 8 + (j % 57)))
const promises = requests.map((users, j) => (j % 2 === 0 ? concurrent.negativesAsync(users, 3) : concurrent.pairwiseAsync(users, users, 3).then((b) => b.negatives)))
const expected = requests.map((users, j) => (j % 2 === 0 ? reference.negatives(users, 3) : reference.pairwise(users, users, 3).negatives))
const results = await Promise.all(promises)
let mismatches = 0
for (let j = 0; j < CONCURRENT; j++) {
  if (results[j].length !== expected[j].length || results[j].some((v, i) => v !== expected[j][i])) mismatches++
  checkExcluded(requests[j], results[j], 3, `concurrent call ${j}`)
}
check(mismatches === 0, `${mismatches} of ${CONCURRENT} concurrent async calls differ from the same calls made synchronously`)
const distinct = new Set(results.map((r) => r.join(','))).size
check(distinct === CONCURRENT, `only ${distinct} distinct outputs among ${CONCURRENT} calls`)

// ------------------------------------------------- 3. kept alive by its jobs

const JOBS = 16
const jobUsers = new Int32Array(20_000)
for (let j = 0; j < jobUsers.length; j++) jobUsers[j] = 10 + (j % (NUM_USERS - 10))
jobUsers[0] = 0 // a heavy user too
const seed = 99n
const nativeMatrix = native.NativeInteractions.fromCoo(Int32Array.from(cooUsers), Int32Array.from(cooItems), NUM_USERS, NUM_ITEMS)
const keepAliveReference = new native.NativeSampler(nativeMatrix, 'popularity', 0.75, undefined, seed)
const JOB_K = 100
const keepAliveExpected = Array.from({ length: JOBS }, () => native.draw(keepAliveReference, jobUsers, null, JOB_K, 'negatives'))
let collected = false
let pendingAtCollection = -1
let settled = 0
let weak
function track(promise) {
  return promise.then((r) => (settled++, r))
}
function startJobs() {
  // The only reference to this sampler's JavaScript object is local (and
  // weak): no closure captures `s`, so no callback keeps it alive.
  const s = new native.NativeSampler(nativeMatrix, 'popularity', 0.75, undefined, seed)
  weak = new WeakRef(s)
  const started = []
  for (let j = 0; j < JOBS; j++) started.push(native.drawAsync(s, jobUsers, null, JOB_K, 'negatives'))
  return started.map(track)
}
const jobs = startJobs()
// A WeakRef keeps its target alive until the current task ends: let timers
// turn the loop, forcing a full GC each time, while the jobs run.
let gcRoundsWhilePending = 0
let pendingAtFirstGc = -1
for (let round = 0; round < 40 && settled < JOBS; round++) {
  await new Promise((resolve) => setTimeout(resolve, 2))
  globalThis.gc()
  gcRoundsWhilePending++
  if (round === 0) pendingAtFirstGc = JOBS - settled
  if (!collected && weak.deref() === undefined) {
    collected = true
    pendingAtCollection = JOBS - settled
  }
}
const pendingAfterGc = pendingAtFirstGc
const jobResults = await Promise.all(jobs)
let jobMismatches = 0
for (let j = 0; j < JOBS; j++) {
  const a = jobResults[j]
  const b = keepAliveExpected[j]
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) jobMismatches++
}
check(jobMismatches === 0, `${jobMismatches} of ${JOBS} jobs of a dropped sampler returned wrong output`)
check(pendingAfterGc > 0, 'every job had settled before the forced GCs: the check did not test a pending job')
// Once its jobs have settled nothing may keep the object: it must be collected.
for (let round = 0; round < 20 && !collected; round++) {
  await new Promise((resolve) => setTimeout(resolve, 2))
  globalThis.gc()
  if (weak.deref() === undefined) collected = true
}
check(collected, 'the dropped sampler object was never collected, even after its jobs settled')

// ------------------------------------------------------------ 4. files

/** How many mappings of `file` the process has (Linux; null elsewhere). */
function mappingsOf(file) {
  try {
    return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.endsWith(file)).length
  } catch {
    return null
  }
}
/** How many file descriptors the process has open (Linux; null elsewhere). */
function openDescriptors() {
  try {
    return fs.readdirSync('/proc/self/fd').length
  } catch {
    return null
  }
}

const fileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'negsample-soak-'))
const file = path.join(fileDir, 'soak.nsds')
Dataset.fromInteractions(matrix).save(file, { proposals: [{ proposal: 'popularity', alpha: 0.75 }] })
const fileOpens = Math.max(200, Math.floor(CALLS / 200))
let mappingsWhileOpen = 0
/** Opens the file, samples a batch from it, and drops everything (a function, so that no
 * variable of the async module body keeps the last dataset). */
function openAndSample(j) {
  const dataset = openDataset(file, { verify: j % 2 === 0 })
  if (!dataset.mapped) failures.push(`open ${j}: the dataset is not memory-mapped`)
  const fileSampler = new Sampler(dataset.interactions, { proposal: 'popularity', seed: j })
  const { users } = batches[j % batches.length]
  const out = fileSampler.negatives(users, K)
  if (j % 20 === 0) checkExcluded(users, out, K, `sampler on opened file ${j}`)
  if (j === 0) mappingsWhileOpen = mappingsOf(file) ?? 0
}
// Each sampler here allocates its exclusion bitmaps and alias table, freed when the garbage
// collector finds it dropped; the allocator keeps the heap that the samplers alive between two
// collections needed. So the loop collects every 10 opens, and the RSS baseline is taken after
// a warm-up of 100 opens.
for (let j = 0; j < 100; j++) {
  openAndSample(j)
  if (j % 10 === 9) await settledRss()
}
const descriptorsBefore = openDescriptors()
const fileRssBefore = (await settledRss()).rss
for (let j = 0; j < fileOpens; j++) {
  openAndSample(j)
  // Turn the event loop now and then, as a program would, so that
  // finalizers run during the loop as well as after it.
  if (j % 10 === 9) await settledRss()
}
let mappingsLeft = mappingsOf(file)
for (let round = 0; round < 20 && mappingsLeft !== null && mappingsLeft > 0; round++) {
  await settledRss()
  mappingsLeft = mappingsOf(file)
}
const descriptorsAfter = openDescriptors()
const fileGrowth = (await settledRss()).rss - fileRssBefore
fs.rmSync(fileDir, { recursive: true, force: true })
if (mappingsLeft !== null) {
  check(mappingsWhileOpen > 0, 'files: no mapping of the opened file was seen: the check did not test anything')
  check(mappingsLeft === 0, `files: ${mappingsLeft} mappings of the file remain after ${fileOpens} opened datasets were dropped`)
}
if (descriptorsBefore !== null) {
  check(descriptorsAfter <= descriptorsBefore, `files: ${descriptorsAfter - descriptorsBefore} more open descriptors after ${fileOpens} opens`)
}
check(
  fileGrowth <= RSS_BOUND_MIB * 2 ** 20,
  `files: RSS grew by ${mib(fileGrowth)} MiB over ${fileOpens} opens (bound ${RSS_BOUND_MIB} MiB)`,
)

// ------------------------------------------------------------ 5. tensors

let tf = null
try {
  tf = require('@tensorflow/tfjs')
} catch {
  // Not installed: the check is skipped (the report says so).
}
const tensorSteps = Math.max(200, Math.floor(CALLS / 200))
const tensorReport = { steps: 0, tensorsAtStep10: null, tensorsAtEnd: null, datasetBatches: 0, tensorsBeforeDataset: null, tensorsAfterDataset: null, rssGrowthMiB: 0 }
if (tf !== null) {
  const adapter = require(path.join(root, 'dist/tfjs.js'))
  await tf.setBackend('cpu')
  let tensorRssBefore = 0
  const DIM = 8
  const P = tf.variable(tf.randomNormal([NUM_USERS, DIM], 0, 0.1, 'float32', 1))
  const Q = tf.variable(tf.randomNormal([NUM_ITEMS, DIM], 0, 0.1, 'float32', 2))
  const optimizer = tf.train.adam(0.01)
  const trainer = new Sampler(matrix, { proposal: 'popularity', seed: 5 })
  const score = (users, items) => tf.sum(tf.mul(adapter.embeddingLookup(tf, P, users), adapter.embeddingLookup(tf, Q, items)), 1)
  /** One training step: a function, so that no variable of the module body keeps its tensors. */
  function trainStep(j) {
    const { users, items } = batches[j % batches.length]
    if (j % 2 === 0) {
      const t = adapter.pairwiseTensors(tf, trainer.pairwise(users, items, 1))
      const loss = optimizer.minimize(() => adapter.bprLoss(tf, score(t.users, t.positives), score(t.users, t.negatives)), true)
      if (!Number.isFinite(loss.dataSync()[0])) failures.push(`tensors: step ${j} gave a loss that is not finite`)
      tf.dispose([loss, ...Object.values(t)])
    } else {
      const t = adapter.pointwiseTensors(tf, trainer.pointwise(users, items, 1))
      const loss = optimizer.minimize(() => adapter.bceWithLogitsLoss(tf, score(t.users, t.items), t.labels), true)
      if (!Number.isFinite(loss.dataSync()[0])) failures.push(`tensors: step ${j} gave a loss that is not finite`)
      tf.dispose([loss, ...Object.values(t)])
    }
  }
  for (let j = 0; j < tensorSteps; j++) {
    trainStep(j)
    if (j === 9) {
      // After 10 steps tfjs has built its kernels and the optimizer its slots: the baseline.
      tensorReport.tensorsAtStep10 = tf.memory().numTensors
      tensorRssBefore = (await settledRss()).rss
    }
  }
  tensorReport.steps = tensorSteps
  tensorReport.tensorsAtEnd = tf.memory().numTensors
  check(
    tensorReport.tensorsAtEnd === tensorReport.tensorsAtStep10,
    `tensors: ${tensorReport.tensorsAtStep10} tensors after 10 training steps, ${tensorReport.tensorsAtEnd} after ${tensorSteps}`,
  )
  tensorReport.tensorsBeforeDataset = tf.memory().numTensors
  const dataset = adapter.samplerDataset(tf, new Sampler(matrix, { seed: 6 }), { batchSize: 256, negatives: 1 })
  await dataset.repeat().take(tensorSteps).forEachAsync((element) => {
    tensorReport.datasetBatches++
    tf.dispose([...element.xs, element.ys])
  })
  tensorReport.tensorsAfterDataset = tf.memory().numTensors
  check(
    tensorReport.tensorsAfterDataset === tensorReport.tensorsBeforeDataset,
    `tensors: ${tensorReport.tensorsBeforeDataset} tensors before ${tensorReport.datasetBatches} samplerDataset batches, ${tensorReport.tensorsAfterDataset} after`,
  )
  tf.dispose([P, Q])
  optimizer.dispose()
  const tensorGrowth = (await settledRss()).rss - tensorRssBefore
  tensorReport.rssGrowthMiB = mib(tensorGrowth)
  check(tensorGrowth <= RSS_BOUND_MIB * 2 ** 20, `tensors: RSS grew by ${mib(tensorGrowth)} MiB (bound ${RSS_BOUND_MIB} MiB)`)
}

// ------------------------------------------------------------ 6. threads

const threadCalls = Math.max(100, Math.floor(CALLS / 1000))
const bigUsers = Int32Array.from({ length: 20_000 }, (_, j) => (j * 7919) % NUM_USERS)
const threaded = new Sampler(matrix, { proposal: 'popularity', seed: 31, threads: 2 })
const single = new Sampler(matrix, { proposal: 'popularity', seed: 31, threads: 1 })
let threadMismatches = 0
/** One call on each sampler (the same call number on both), compared. */
async function threadedCall(j) {
  const a = j % 2 === 0 ? threaded.negatives(bigUsers, K) : await threaded.negativesAsync(bigUsers, K)
  const b = single.negatives(bigUsers, K)
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) threadMismatches++
  if (j % 20 === 0) checkExcluded(bigUsers, a, K, `threaded call ${j}`)
}
await threadedCall(0)
const threadRssBefore = (await settledRss()).rss
for (let j = 1; j < threadCalls; j++) {
  await threadedCall(j)
  if (j % 100 === 0) await settledRss()
}
const threadGrowth = (await settledRss()).rss - threadRssBefore
check(threaded.threads === 2, `threads: the sampler reports ${threaded.threads} threads, expected 2`)
check(threadMismatches === 0, `threads: ${threadMismatches} of ${threadCalls} calls on 2 threads differ from the same calls on 1`)
check(threadGrowth <= RSS_BOUND_MIB * 2 ** 20, `threads: RSS grew by ${mib(threadGrowth)} MiB over ${threadCalls} calls (bound ${RSS_BOUND_MIB} MiB)`)

const report = {
  calls: CALLS,
  warmupCalls: WARMUP,
  seconds: leakSeconds,
  rssBoundMiB: RSS_BOUND_MIB,
  rssBeforeMiB: mib(before.rss),
  rssAfterMiB: mib(after.rss),
  rssGrowthMiB: mib(growth),
  heapUsedBeforeMiB: mib(before.heapUsed),
  heapUsedAfterMiB: mib(after.heapUsed),
  externalBeforeMiB: mib(before.external),
  externalAfterMiB: mib(after.external),
  rssSamplesMiB: samples.map((s) => [s.calls, mib(s.rss)]),
  noYieldCalls,
  noYieldGrowthMiB: mib(noYieldGrowth),
  softmaxNoYieldCalls: softmaxCalls,
  softmaxNoYieldGrowthMiB: mib(softmaxGrowth),
  softmaxChecked,
  evaluateNoYieldCalls: evalCalls,
  evaluateNoYieldGrowthMiB: mib(evalGrowth),
  getterNoYieldCalls: getterCalls,
  getterNoYieldGrowthMiB: mib(getterGrowth),
  concurrentCalls: CONCURRENT,
  concurrentMismatches: mismatches,
  concurrentDistinctOutputs: distinct,
  droppedSamplerCollected: collected,
  jobsPendingWhenCollected: pendingAtCollection,
  gcRoundsWhilePending,
  jobsPendingAfterGc: pendingAfterGc,
  droppedSamplerJobMismatches: jobMismatches,
  fileOpens,
  fileMappingsWhileOpen: mappingsWhileOpen,
  fileMappingsLeft: mappingsLeft,
  descriptorsBefore,
  descriptorsAfter,
  fileRssGrowthMiB: mib(fileGrowth),
  tensors: tf === null ? 'skipped: @tensorflow/tfjs is not installed' : tensorReport,
  threadCalls,
  threadMismatches,
  threadRssGrowthMiB: mib(threadGrowth),
  failures,
}
if (JSON_OUT) {
  console.log(JSON.stringify(report))
} else {
  console.log(`soak: ${CALLS} calls (+${WARMUP} warm-up) in ${leakSeconds.toFixed(1)} s`)
  console.log(`  RSS after warm-up ${report.rssBeforeMiB} MiB, at the end ${report.rssAfterMiB} MiB: growth ${report.rssGrowthMiB} MiB (bound ${RSS_BOUND_MIB} MiB)`)
  console.log(`  heapUsed ${report.heapUsedBeforeMiB} -> ${report.heapUsedAfterMiB} MiB, external ${report.externalBeforeMiB} -> ${report.externalAfterMiB} MiB`)
  console.log(`  RSS by calls: ${report.rssSamplesMiB.map(([c, r]) => `${c}:${r}`).join(' ')}`)
  console.log(`  ${noYieldCalls} synchronous calls that never yield: RSS growth ${report.noYieldGrowthMiB} MiB (bound ${RSS_BOUND_MIB} MiB)`)
  console.log(`  ${softmaxCalls} synchronous sampledSoftmax calls that never yield: RSS growth ${report.softmaxNoYieldGrowthMiB} MiB; ${evalCalls} synchronous evaluate calls: ${report.evaluateNoYieldGrowthMiB} MiB (bound ${RSS_BOUND_MIB} MiB each)`)
  console.log(`  ${getterCalls} synchronous matrix getter calls (indices, indptr, popularity) that never yield: RSS growth ${report.getterNoYieldGrowthMiB} MiB`)
  console.log(`  concurrency: ${CONCURRENT} async calls at once, ${mismatches} differ from the synchronous reference, ${distinct} distinct outputs`)
  console.log(
    `  dropped sampler: ${gcRoundsWhilePending} forced GCs, the first with ${pendingAfterGc} of ${JOBS} jobs pending; ` +
      (pendingAtCollection > 0 ? `object collected with ${pendingAtCollection} jobs pending` : 'object kept alive until its jobs settled, then collected: ' + collected) +
      `; ${jobMismatches} wrong outputs`,
  )
  console.log(
    `  files: ${fileOpens} opens of a saved file, ${mappingsWhileOpen} mappings while one was open, ${mappingsLeft ?? 'unknown'} left after GC; ` +
      `descriptors ${descriptorsBefore ?? '?'} -> ${descriptorsAfter ?? '?'}; RSS growth ${report.fileRssGrowthMiB} MiB`,
  )
  console.log(
    tf === null
      ? '  tensors: skipped (@tensorflow/tfjs is not installed)'
      : `  tensors: ${tensorReport.steps} training steps, ${tensorReport.tensorsAtStep10} tensors after 10 and ${tensorReport.tensorsAtEnd} after all; ` +
          `${tensorReport.datasetBatches} samplerDataset batches, ${tensorReport.tensorsBeforeDataset} -> ${tensorReport.tensorsAfterDataset} tensors; RSS growth ${tensorReport.rssGrowthMiB} MiB`,
  )
  console.log(
    `  threads: ${threadCalls} calls of 80,000 outputs on 2 threads, ${threadMismatches} differ from 1 thread; RSS growth ${report.threadRssGrowthMiB} MiB`,
  )
  console.log(failures.length === 0 ? 'soak: ok' : `soak: FAILED\n  ${failures.join('\n  ')}`)
}
process.exit(failures.length === 0 ? 0 : 1)
