// The main job: train a recommender (matrix factorisation with the BPR loss) in TensorFlow.js
// with negsample's negatives, once per negative sampler, and compare them.
//
//   npm run demo                                  # embedded synthetic data set
//   npm run demo -- --data ../shared/data/lastfm  # adjacency files train.txt / valid.txt / test.txt
//   npm run demo -- --quick                       # tiny and fast (CI)
//
// Steps:
//   1. load the data; sample one epoch with each proposal and check that no negative is a
//      positive of its user (the engine's promise), timing the sampling;
//   2. for each sampler, train MF-BPR: batches sampled off the JavaScript thread while the
//      previous one trains (negsample `epochAsync`), turned into tensors (negsample/tfjs
//      `pairwiseTensors`), embeddings looked up with a batch-sized gradient (`embeddingLookup`),
//      BPR loss (`bprLoss`), Adam; after each epoch, Recall@K on the validation split with the
//      engine's full-ranking `evaluate`, keeping the best epoch's embeddings and stopping after
//      --patience epochs without a better one (or at the --epochs ceiling);
//   3. a table of Recall@K / NDCG@K on the test split per sampler at its best validation epoch,
//      that epoch and the training time to reach it, the time per epoch, and the share of step
//      time that sampling takes.
//
// Options: --data DIR, --quick, --epochs N (ceiling: 30, 2 with --quick), --patience P (3),
//   --dim D (64), --batch-size B (2048), --lr (0.005),
//   --l2 (1e-4), --samplers uniform,popularity,hard, --negatives N (1, per positive), --backend wasm|cpu (wasm),
//   --k K (20, the metrics' cutoff), --seed S (7).
//
// The progress bar (on a terminal) shows the loss and draws/s (negatives sampled and trained on
// per second of wall time); each epoch's line shows positives/s.
//
// Hard negatives (DNS, Zhang et al. 2013) plug in as a batch source (see `strategies` below):
// 16 candidates per positive from the uniform proposal, the one the current model scores
// highest is kept; the model's embeddings are snapshotted for every batch.

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import negsample from '../dist/index.js'
import { bprLoss, embeddingLookup, pairwiseTensors } from '../dist/tfjs.js'
import { synthetic } from './synthetic.mjs'

const { HardNegatives, Interactions, Sampler, epochAsync, evaluate, loadAdjacency } = negsample

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    quick: { type: 'boolean', default: false },
    epochs: { type: 'string' },
    patience: { type: 'string', default: '3' },
    dim: { type: 'string', default: '64' },
    'batch-size': { type: 'string' },
    lr: { type: 'string', default: '0.005' },
    l2: { type: 'string', default: '1e-4' },
    samplers: { type: 'string', default: 'uniform,popularity,hard' },
    negatives: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
    k: { type: 'string', default: '20' },
    seed: { type: 'string', default: '7' },
  },
})
const quick = args.quick
const epochs = Number(args.epochs ?? (quick ? 2 : 30))
const patience = Number(args.patience)
const dim = Number(quick ? Math.min(Number(args.dim), 16) : args.dim)
const batchSize = Number(args['batch-size'] ?? (quick ? 512 : 2048))
const lr = Number(args.lr)
const l2 = Number(args.l2)
const K = Number(args.k)
const k = Number(args.negatives)
const seed = Number(args.seed)
for (const [name, value] of Object.entries({ epochs, patience, dim, batchSize, k: k, K, seed })) {
  if (!Number.isInteger(value) || value < (name === 'seed' ? 0 : 1)) {
    console.error(`--${name === 'k' ? 'negatives' : name} must be a positive integer, got ${value}`)
    process.exit(2)
  }
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** A progress bar on stderr for the engine's loader (bytes read of all files). */
function progressBar(done, total) {
  const width = 30
  const filled = total === 0 ? width : Math.round((width * done) / total)
  const mib = (n) => (n / 2 ** 20).toFixed(1)
  process.stderr.write(`\r  loading [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${mib(done)} / ${mib(total)} MiB`)
  if (done === total) process.stderr.write('\n')
}

/**
 * The train / valid / test splits as Interactions with one id space. `--data DIR` reads
 * DIR/train.txt, valid.txt, test.txt (adjacency lines) with the engine's parallel loader; an
 * absent valid or test split is empty. Without `--data`, the embedded synthetic set.
 */
function loadData() {
  if (args.data) {
    const dir = args.data
    if (!existsSync(join(dir, 'train.txt'))) {
      console.error(`${join(dir, 'train.txt')} not found: --data needs a folder with train.txt (and valid.txt, test.txt)`)
      process.exit(2)
    }
    const names = ['train', 'valid', 'test'].filter((s) => existsSync(join(dir, `${s}.txt`)))
    const loaded = loadAdjacency(names.map((s) => join(dir, `${s}.txt`)), { onProgress: progressBar })
    const splits = Object.fromEntries(names.map((s, j) => [s, loaded[j].interactions]))
    const { numUsers, numItems } = splits.train
    const empty = () => Interactions.fromCoo(new Int32Array(0), new Int32Array(0), { numUsers, numItems })
    return { name: dir, train: splits.train, valid: splits.valid ?? empty(), test: splits.test ?? empty() }
  }
  const size = quick ? { users: 300, items: 400, meanPerUser: 25 } : { users: 3000, items: 4000, meanPerUser: 40 }
  const data = synthetic({ ...size, seed: 2024 })
  const counts = { numUsers: data.numUsers, numItems: data.numItems }
  const split = (part) => Interactions.fromCoo(part.users, part.items, counts)
  return {
    name: `synthetic (embedded: power-law popularity, latent factors, seed 2024)`,
    train: split(data.train),
    valid: split(data.valid),
    test: split(data.test),
  }
}

const started = performance.now()
const { name: dataName, train, valid, test } = loadData()
const hasValid = valid.nnz > 0
console.log(`data: ${dataName}`)
console.log(
  `  ${train.numUsers.toLocaleString('en-US')} users, ${train.numItems.toLocaleString('en-US')} items, ` +
    `${train.nnz.toLocaleString('en-US')} train / ${valid.nnz.toLocaleString('en-US')} valid / ` +
    `${test.nnz.toLocaleString('en-US')} test positives (loaded in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
)

// ---------------------------------------------------------------------------------------------
// Step 1: sample an epoch with each proposal; check every negative; time it.
// ---------------------------------------------------------------------------------------------

const indptr = train.indptr()
const indices = train.indices()
function isPositive(user, item) {
  let lo = indptr[user]
  let hi = indptr[user + 1]
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (indices[mid] < item) lo = mid + 1
    else hi = mid
  }
  return lo < indptr[user + 1] && indices[lo] === item
}

const proposals = ['uniform', 'popularity']
const inlineSampling = {}
console.log(`\n1. sampling check: one epoch per proposal, batches of ${batchSize}, ${k} negative(s) per positive`)
const checkRows = []
for (const proposal of proposals) {
  const sampler = new Sampler(train, { proposal, seed })
  let collisions = 0
  let draws = 0
  for (const batch of sampler.epoch({ batchSize, negatives: k })) {
    draws += batch.negatives.length
    for (let j = 0; j < batch.negatives.length; j++) if (isPositive(batch.users[j], batch.negatives[j])) collisions++
  }
  // Time sampling alone, best of 3 epochs (what an epoch costs when sampled inline).
  let best = Infinity
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now()
    for (const _ of sampler.epoch({ batchSize, negatives: k })) void _
    best = Math.min(best, performance.now() - t0)
  }
  inlineSampling[proposal] = best
  checkRows.push({ proposal, negatives: draws, collisions, 'epoch (ms)': +best.toFixed(2), 'draws/s': fmtRate(draws / (best / 1000)) })
  if (collisions !== 0) {
    console.error(`FAILED: ${collisions} negatives were positives of their user`)
    process.exit(1)
  }
}
console.table(checkRows)

// ---------------------------------------------------------------------------------------------
// Step 2: train MF-BPR once per sampler.
// ---------------------------------------------------------------------------------------------

/**
 * A negative sampler for training: the proposal the engine draws from, and optionally a batch
 * source (`epochAsync`'s `source` option) that replaces plain pairwise batches.
 */
const HARD_CANDIDATES = 16
const strategies = {
  uniform: { proposal: 'uniform' },
  popularity: { proposal: 'popularity' },
  hard: {
    proposal: 'uniform',
    // DNS: score M candidates against a snapshot of the current model, keep the hardest.
    source: (sampler, model) => {
      let hard
      return async (users, items, negatives) => {
        const { users: userEmbeddings, items: itemEmbeddings } = await model.snapshot()
        if (hard === undefined) {
          hard = new HardNegatives(sampler, { candidates: HARD_CANDIDATES, userEmbeddings, itemEmbeddings, dim })
        } else {
          hard.setEmbeddings(userEmbeddings, itemEmbeddings)
        }
        return hard.pairwiseAsync(users, items, negatives)
      }
    },
  },
}
const requested = args.samplers.split(',').map((s) => s.trim()).filter(Boolean)
const chosen = []
for (const name of requested) {
  if (strategies[name]) chosen.push(name)
  else {
    console.error(`--samplers: unknown sampler '${name}' (known: ${Object.keys(strategies).join(', ')})`)
    process.exit(2)
  }
}

await tf.setBackend(args.backend)
await tf.ready()
if (tf.getBackend() !== args.backend) {
  console.error(`--backend ${args.backend}: TensorFlow.js could not start it (got ${tf.getBackend()})`)
  process.exit(2)
}

function fmtRate(perSecond) {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`
  return perSecond.toFixed(0)
}

const interactive = process.stderr.isTTY === true
function progress(label, epoch, step, steps, loss, rate) {
  if (!interactive) return
  const width = 24
  const done = Math.round((width * step) / steps)
  const bar = '█'.repeat(done) + '░'.repeat(width - done)
  process.stderr.write(
    `\r${label} epoch ${String(epoch).padStart(2)}/${epochs} ${bar} ${step}/${steps}  loss ${loss.toFixed(4)}  ${fmtRate(rate)} draws/s  `,
  )
}

async function snapshot(variable) {
  return await variable.data()
}

async function trainOne(name) {
  const strategy = strategies[name]
  const sampler = new Sampler(train, { proposal: strategy.proposal, seed })
  const P = tf.variable(tf.randomNormal([train.numUsers, dim], 0, 0.1, 'float32', seed))
  const Q = tf.variable(tf.randomNormal([train.numItems, dim], 0, 0.1, 'float32', seed + 1))
  const model = { P, Q, snapshot: async () => ({ users: await snapshot(P), items: await snapshot(Q) }) }
  const optimizer = tf.train.adam(lr)
  const source = strategy.source?.(sampler, model)
  const label = name.padEnd(10)
  const epochTimes = []
  let waitMs = 0
  let tensorsAfterFirst = 0
  let last = { loss: NaN }
  // Early stopping on the validation split: the best epoch's embeddings are kept, and training
  // stops after `patience` epochs without a better validation Recall@K (or at the --epochs ceiling).
  let best = { epoch: 0, recall: -1, seconds: 0, users: null, items: null }
  let trainSeconds = 0
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now()
    const pass = epochAsync(sampler, { batchSize, negatives: k, ...(source ? { source } : {}) })
    let lossSum = 0
    let steps = 0
    let draws = 0
    for await (const batch of pass) {
      const t = pairwiseTensors(tf, batch)
      const rows = batch.users.length
      const loss = optimizer.minimize(() => {
        const u = embeddingLookup(tf, P, t.users)
        const p = embeddingLookup(tf, Q, t.positives)
        const n = embeddingLookup(tf, Q, t.negatives)
        const pos = tf.sum(tf.mul(u, p), 1)
        const neg = tf.sum(tf.mul(u, n), 1)
        const reg = tf.mul(l2 / rows, tf.addN([tf.sum(tf.square(u)), tf.sum(tf.square(p)), tf.sum(tf.square(n))]))
        return tf.add(bprLoss(tf, pos, neg), reg)
      }, true, [P, Q])
      lossSum += (await loss.data())[0]
      tf.dispose([loss, t.users, t.positives, t.negatives])
      steps++
      draws += rows
      progress(label, epoch, steps, pass.batches, lossSum / steps, draws / ((performance.now() - t0) / 1000))
    }
    const seconds = (performance.now() - t0) / 1000
    trainSeconds += seconds
    epochTimes.push(seconds)
    waitMs += pass.stats.waitMs
    if (epoch === 1) tensorsAfterFirst = tf.memory().numTensors
    const positivesPerSecond = draws / k / seconds
    let line = `${label} epoch ${String(epoch).padStart(2)}/${epochs}  loss ${(lossSum / steps).toFixed(4)}  ${fmtRate(positivesPerSecond)} positives/s  ${seconds.toFixed(2)} s`
    let stop = false
    if (hasValid) {
      const { users, items } = await model.snapshot()
      const t1 = performance.now()
      const r = evaluate(train, valid, users, items, { k: K })
      line += `  valid Recall@${K} ${r.mean.recall.toFixed(4)} (eval ${(performance.now() - t1).toFixed(0)} ms)`
      if (r.mean.recall > best.recall) {
        best = { epoch, recall: r.mean.recall, seconds: trainSeconds, users, items }
        line += ' *'
      } else if (epoch - best.epoch >= patience) {
        line += `  (no better for ${patience} epochs: stop)`
        stop = true
      }
    }
    if (interactive) process.stderr.write('\r\x1b[K')
    console.log(line)
    last = { loss: lossSum / steps }
    if (stop) break
  }
  const leaked = tf.memory().numTensors - tensorsAfterFirst
  // The test metrics of the best validation epoch (of the last epoch without a validation split).
  const { users, items } = best.users ? best : await model.snapshot()
  if (!best.users) best = { epoch: epochTimes.length, recall: NaN, seconds: trainSeconds }
  const t1 = performance.now()
  const result = evaluate(train, test, users, items, { k: K })
  const evalMs = performance.now() - t1
  tf.dispose([P, Q])
  optimizer.dispose()
  const meanEpoch = epochTimes.reduce((a, b) => a + b, 0) / epochTimes.length
  return {
    name,
    result,
    evalMs,
    meanEpoch,
    epochsRun: epochTimes.length,
    bestEpoch: best.epoch,
    bestSeconds: best.seconds,
    loss: last.loss,
    inlineShare: inlineSampling[strategy.proposal] / 1000 / meanEpoch,
    waitShare: waitMs / 1000 / epochTimes.reduce((a, b) => a + b, 0),
    leaked,
  }
}

console.log(
  `\n2. training matrix factorisation (dim ${dim}) with BPR: at most ${epochs} epochs` +
    (hasValid ? `, early stopping on valid Recall@${K} (patience ${patience}; * marks a new best)` : '') +
    `, batches of ${batchSize} positives x ${k} negative(s), ` +
    `Adam lr ${lr}, L2 ${l2}, tfjs ${tf.version.tfjs} on the ${tf.getBackend()} backend`,
)
const results = []
for (const name of chosen) results.push(await trainOne(name))

// A popularity ranking as the floor any trained model must beat.
const popularity = train.popularity()
const popItems = Float32Array.from(popularity, (c) => Math.log1p(c))
const popBaseline = evaluate(train, test, new Float32Array(train.numUsers).fill(1), popItems, { k: K, dim: 1 })

console.log(
  `\n3. results on the test split (${test.nnz.toLocaleString('en-US')} positives) at each sampler's best validation epoch, ` +
    `full ranking, training items excluded`,
)
const table = results.map((r) => ({
  sampler: r.name,
  [`Recall@${K}`]: +r.result.mean.recall.toFixed(4),
  [`NDCG@${K}`]: +r.result.mean.ndcg.toFixed(4),
  [`HitRate@${K}`]: +r.result.mean.hitRate.toFixed(4),
  'best epoch': `${r.bestEpoch}/${r.epochsRun}`,
  'train s to best': +r.bestSeconds.toFixed(1),
  'final loss': +r.loss.toFixed(4),
  's/epoch': +r.meanEpoch.toFixed(2),
  'sampling share': `${(100 * r.inlineShare).toFixed(2)}%`,
  'wait share': `${(100 * r.waitShare).toFixed(2)}%`,
}))
table.push({
  sampler: '(most popular)',
  [`Recall@${K}`]: +popBaseline.mean.recall.toFixed(4),
  [`NDCG@${K}`]: +popBaseline.mean.ndcg.toFixed(4),
  [`HitRate@${K}`]: +popBaseline.mean.hitRate.toFixed(4),
})
console.table(table)
for (const r of results) {
  if (r.leaked !== 0) {
    console.error(`FAILED: ${r.name}: tf.memory().numTensors grew by ${r.leaked} after the first epoch`)
    process.exitCode = 1
  }
}
console.log(
  `sampling share: engine time to sample an epoch inline / training time per epoch; wait share: time the\n` +
    `training loop actually waited for a batch (sampling runs off the JavaScript thread, one batch ahead).\n` +
    `evaluation: ${results[0]?.result.users.length ?? 0} users ranked over ${train.numItems} items in ` +
    `${results[0]?.evalMs.toFixed(0) ?? '-'} ms.`,
)
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`)
