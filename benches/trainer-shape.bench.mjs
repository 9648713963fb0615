// Fast where trainers actually sample (issue 13).
//
// The other suites time big calls (10^6 draws into one buffer). A trainer does not call like
// that: it walks an epoch in batches of a few thousand positives, asks for 1 to 4 negatives per
// positive, or scores a few dozen candidates per positive (DNS). This suite times those call
// shapes, one thread unless stated, with the uniform proposal, on the data sets recommenders are
// trained on:
//   - real: lastfm and ml-1m (../shared/data, read with the package's loadAdjacency; skipped
//     with a message if absent);
//   - synthetic (the package's synthetic(), item popularity Zipf 1.0, user activity power law
//     0.5), shaped like Gowalla (29,858 users, 40,981 items, 810,128 positives), Yelp2018
//     (31,668 / 38,048 / 1,561,406) and Amazon-Book (52,643 / 91,599 / 2,984,108).
// --quick: lastfm and the Gowalla-shaped set only.
//
// Rows (targets in TARGETS):
//   1. an epoch, pairwise, k = 1, batches of 2,048 (`for (const b of sampler.epoch(...))`,
//      every batch touched): positives/s, against the careful JavaScript epoch (lib/careful.mjs:
//      CSR typed arrays, xoshiro128**, branchless binary search, Fisher-Yates each epoch, fresh
//      typed arrays per batch); the tutorial loop (a Set<number> per user, Math.random) for
//      context;
//   2. an epoch, pointwise, k = 4: negatives/s, against careful JavaScript pointwise;
//   3. negativesInto over the user of every positive (shuffled once, fixed), k = 1: negatives/s;
//   4. one call of 2,048 users x 1 negative into a preallocated buffer: microseconds per call;
//   5. DNS (HardNegatives, M = 32 candidates, dim 64, parallel: false) on the Gowalla-shaped
//      set, pairwise over batches of 2,048 positives, against careful JavaScript DNS;
//   6. row 1's epoch with threads: 2 against threads: 1, on the Amazon-Book-shaped set (the
//      Gowalla-shaped one with --quick).
//
// Every contender's output is checked before it is timed (lib/careful.mjs: lengths, ids, no
// negative a positive of its user, every row's positive a training pair, every positive once per
// epoch, a chi-square fit of the negatives against uniform over the user's non-positives, DNS
// picks the best of its candidates); a failed check exits non-zero. Timing is in alternating
// rounds (pairedRatio, lib/paired.mjs): the ratio is the median round's, with quartiles; each
// side's throughput (median, quartiles) is taken from the same rounds, over the stretches of
// consecutive calls of that side (lib/careful.mjs, pairedRates). Targets are reported ("met" /
// "missed by X%"), not asserted: the suite exits 0 unless an output check fails.
//
//   node benches/trainer-shape.bench.mjs [--quick] [--json FILE]
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  carefulDns,
  carefulEpoch,
  carefulNegatives,
  checkDnsBatch,
  checkEpoch,
  checkNegatives,
  csrOf,
  expectedUniform,
  formatRate,
  pairedRates,
  recordJson,
  replayDnsCandidates,
  tutorialEpoch,
  verdict,
  xoshiroNext,
  xoshiroState,
} from './lib/careful.mjs'
import { DATA, shuffledUsers } from './lib/data.mjs'
import { QUICK, negsample } from './lib/harness.mjs'
import { PAIRED_ROUNDS, describePaired } from './lib/paired.mjs'

const { Sampler, HardNegatives, hardNegatives, loadAdjacency, synthetic } = negsample()

const BATCH = 2048
const SEED = 7
/** Row 5: candidates per positive, embedding dimension, batches of BATCH per timed call. */
const DNS = { candidates: 32, dim: 64, batchesPerCall: 8 }
/** The synthetic sets' power laws. */
const EXPONENTS = { itemExponent: 1.0, userExponent: 0.5 }
const TARGETS = {
  epochRate: 100e6,
  epochRatio: 10,
  pointwiseRate: 200e6,
  negativesRate: 150e6,
  negativesRatio: 10,
  smallCallMicros: 3,
  dnsRatio: 15,
  threadsRatio: 1.8,
}

/** Every target's outcome, for the summary at the end. */
const outcomes = []
/** Touched batch values land here, so that no consumer loop is dead code. */
let sink = 0

// ---------------------------------------------------------------------------------------------
// Data sets

/** A real data set read with the package's loadAdjacency (train, with valid and test for the item count), or null. */
function realSet(name) {
  const dir = path.join(DATA, name)
  if (!fs.existsSync(path.join(dir, 'train.txt'))) {
    console.log(`\n## ${name}: skipped, ${path.join(dir, 'train.txt')} is absent`)
    return null
  }
  const files = ['train.txt', 'valid.txt', 'test.txt'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f))
  return { name, kind: 'real', train: loadAdjacency(files)[0].interactions }
}

/** A synthetic set of the given shape. */
function syntheticSet(name, numUsers, numItems, numInteractions) {
  return { name, kind: 'synthetic', train: synthetic({ numUsers, numItems, numInteractions, ...EXPONENTS, seed: SEED }) }
}

/** The data sets of this run, in order (lazily: one in memory at a time). */
function* dataSets() {
  const sets = QUICK
    ? [() => realSet('lastfm'), () => syntheticSet('Gowalla-shaped', 29_858, 40_981, 810_128)]
    : [
        () => realSet('lastfm'),
        () => realSet('ml-1m'),
        () => syntheticSet('Gowalla-shaped', 29_858, 40_981, 810_128),
        () => syntheticSet('Yelp2018-shaped', 31_668, 38_048, 1_561_406),
        () => syntheticSet('Amazon-Book-shaped', 52_643, 91_599, 2_984_108),
      ]
  for (const make of sets) {
    const set = make()
    if (set !== null) yield set
  }
}

/** Prints a data set's sizes and row lengths. */
function describeSet(set, csr) {
  let longest = 0
  for (let u = 0; u < csr.numUsers; u++) longest = Math.max(longest, csr.indptr[u + 1] - csr.indptr[u])
  const n = (x) => x.toLocaleString('en-US')
  const law = set.kind === 'synthetic' ? `, synthetic (itemExponent ${EXPONENTS.itemExponent}, userExponent ${EXPONENTS.userExponent})` : ', real'
  console.log(`\n## ${set.name}: ${n(csr.numUsers)} users, ${n(csr.numItems)} items, ${n(csr.nnz)} positives (mean row ${(csr.nnz / csr.numUsers).toFixed(1)}, longest ${n(longest)})${law}`)
}

// ---------------------------------------------------------------------------------------------
// Checking and reporting

/** Runs a contender's check and prints its summary; a failure throws (the suite exits non-zero). */
function check(name, verify) {
  console.log(`  - ${name}: output checked: ${verify()}`)
}

/** Throws unless two batches (objects of typed arrays) are identical. */
function expectSameBatch(label, a, b) {
  for (const key of Object.keys(a)) {
    const x = a[key]
    const y = b[key]
    if (x.length !== y.length) throw new Error(`${label}: ${key} has ${x.length} vs ${y.length} entries`)
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) throw new Error(`${label}: ${key}[${i}] is ${x[i]} vs ${y[i]}`)
  }
}

/**
 * Times `slow` against `fast` in alternating rounds and prints each side's throughput (`units`
 * per call, named `unit`), the paired ratio, and the verdict of each target: `{ what, value:
 * (measurement) => number, target, atMost?, format }`. Records the figures for --json.
 */
function timePair({ set, row, title, note, unit, units, slow, fast, targets }) {
  console.log(`\n### ${row}. ${title} · ${set}${QUICK ? ' (quick)' : ''}`)
  if (note) console.log(note)
  const m = pairedRates(slow.run, fast.run)
  const side = (s) => ({ rate: units / (s.median / 1e3), low: units / (s.high / 1e3), high: units / (s.low / 1e3), msPerCall: s.median })
  const measured = { slow: side(m.slow), fast: side(m.fast), ratio: m.ratio }
  const perCall = (ms) => (ms >= 1e3 ? `${(ms / 1e3).toPrecision(3)} s` : ms >= 1 ? `${ms.toPrecision(3)} ms` : `${(ms * 1e3).toPrecision(3)} us`)
  const rows = [
    ['contender', `${unit}/s (median)`, 'quartiles', 'time per call'],
    ...[[fast.name, measured.fast], [slow.name, measured.slow]].map(([name, s]) => [name, formatRate(s.rate), `${formatRate(s.low)} to ${formatRate(s.high)}`, perCall(s.msPerCall)]),
  ]
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  const line = (r) => '| ' + r.map((v, c) => v.padEnd(widths[c])).join(' | ') + ' |'
  console.log(['', line(rows[0]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n'))
  console.log(describePaired(`${fast.name} over ${slow.name}`, m.ratio))
  const results = []
  for (const t of targets) {
    const value = t.value(measured)
    const outcome = { row, set, what: t.what, value: t.format(value), target: `${t.atMost ? '<=' : '>='} ${t.format(t.target)}`, verdict: verdict(value, t.target, t.atMost) }
    console.log(`target: ${t.what} ${outcome.target}: ${outcome.value}: ${outcome.verdict}`)
    outcomes.push(outcome)
    results.push({ ...outcome, measured: value })
  }
  const contender = (name, s) => ({ name, unit, unitsPerOp: units, unitsPerSec: s.rate, unitsPerSecQuartiles: [s.low, s.high], msPerOp: s.msPerCall })
  recordJson(`${row}. ${title} · ${set}`, [contender(fast.name, measured.fast), contender(slow.name, measured.slow)], {
    paired: { ...m.ratio, rounds: PAIRED_ROUNDS, of: `${fast.name} over ${slow.name}` },
    targets: results,
  })
  return measured
}

const rate = (x) => `${formatRate(x)}/s`
const times = (x) => `${x.toFixed(2)}x`
const micros = (x) => `${x.toFixed(2)} us`

// ---------------------------------------------------------------------------------------------
// Rows

/** Row 1: the pairwise epoch against careful JavaScript, and against the tutorial loop. */
function epochPairwiseRow(set, csr, expected) {
  const sampler = new Sampler(set.train, { seed: SEED, threads: 1 })
  const careful = carefulEpoch(csr, SEED)
  const tutorial = tutorialEpoch(csr)
  const plan = { batchSize: BATCH, shape: 'pairwise', k: 1, expected }
  console.log(`\nrow 1 checks (negsample kernel ${sampler.kernel}):`)
  check('negsample epoch', () => checkEpoch('negsample epoch', sampler.epoch({ batchSize: BATCH }), csr, plan))
  check('careful JS epoch', () => checkEpoch('careful JS epoch', careful.pairwise(BATCH), csr, plan))
  check('tutorial Set epoch', () => checkEpoch('tutorial Set epoch', tutorial.pairwise(BATCH), csr, plan))
  const ours = {
    name: 'negsample epoch',
    run: () => {
      for (const b of sampler.epoch({ batchSize: BATCH })) sink += b.negatives[0]
    },
  }
  const title = 'epoch, pairwise, k = 1, batches of 2,048, 1 thread'
  timePair({
    set: set.name,
    row: 1,
    title,
    unit: 'positives',
    units: csr.nnz,
    slow: {
      name: 'careful JS epoch',
      run: () => {
        for (const b of careful.pairwise(BATCH)) sink += b.negatives[0]
      },
    },
    fast: ours,
    targets: [
      { what: 'negsample positives/s', value: (m) => m.fast.rate, target: TARGETS.epochRate, format: rate },
      { what: 'negsample over careful JS', value: (m) => m.ratio.median, target: TARGETS.epochRatio, format: times },
    ],
  })
  timePair({
    set: set.name,
    row: '1 (context)',
    title: `${title}, against the tutorial loop`,
    note: 'tutorial: one Set<number> of positives per user, Math.random candidates and shuffle, fresh typed arrays per batch',
    unit: 'positives',
    units: csr.nnz,
    slow: {
      name: 'tutorial Set epoch',
      run: () => {
        for (const b of tutorial.pairwise(BATCH)) sink += b.negatives[0]
      },
    },
    fast: ours,
    targets: [],
  })
}

/** Row 2: the pointwise epoch with 4 negatives per positive. */
function epochPointwiseRow(set, csr, expected) {
  const k = 4
  const options = { batchSize: BATCH, negatives: k, shape: 'pointwise' }
  const sampler = new Sampler(set.train, { seed: SEED, threads: 1 })
  const careful = carefulEpoch(csr, SEED)
  const plan = { batchSize: BATCH, shape: 'pointwise', k, expected }
  console.log('\nrow 2 checks:')
  check('negsample pointwise epoch', () => checkEpoch('negsample pointwise epoch', sampler.epoch(options), csr, plan))
  check('careful JS pointwise epoch', () => checkEpoch('careful JS pointwise epoch', careful.pointwise(BATCH, k), csr, plan))
  timePair({
    set: set.name,
    row: 2,
    title: 'epoch, pointwise, k = 4, batches of 2,048 positives, 1 thread',
    unit: 'negatives',
    units: csr.nnz * k,
    slow: {
      name: 'careful JS pointwise epoch',
      run: () => {
        for (const b of careful.pointwise(BATCH, k)) sink += b.items[1]
      },
    },
    fast: {
      name: 'negsample pointwise epoch',
      run: () => {
        for (const b of sampler.epoch(options)) sink += b.items[1]
      },
    },
    // The ratio to careful JavaScript is printed (the paired line) but has no target.
    targets: [{ what: 'negsample negatives/s', value: (m) => m.fast.rate, target: TARGETS.pointwiseRate, format: rate }],
  })
}

/** Row 3: one negativesInto call over the user of every positive, in a fixed shuffled order. */
function negativesRow(set, csr, users, expected) {
  const sampler = new Sampler(set.train, { seed: SEED, threads: 1 })
  const careful = carefulNegatives(csr, SEED)
  const out = new Int32Array(users.length)
  console.log('\nrow 3 checks:')
  check('negsample negativesInto', () => checkNegatives('negsample negativesInto', csr, users, 1, sampler.negativesInto(users, 1, new Int32Array(users.length)), expected))
  check('careful JS negatives', () => checkNegatives('careful JS negatives', csr, users, 1, careful(users, 1, new Int32Array(users.length)), expected))
  timePair({
    set: set.name,
    row: 3,
    title: `negativesInto(users of every positive, shuffled; ${users.length.toLocaleString('en-US')} users), k = 1, 1 thread`,
    unit: 'negatives',
    units: users.length,
    slow: { name: 'careful JS negatives', run: () => careful(users, 1, out) },
    fast: { name: 'negsample negativesInto', run: () => sampler.negativesInto(users, 1, out) },
    targets: [
      { what: 'negsample negatives/s', value: (m) => m.fast.rate, target: TARGETS.negativesRate, format: rate },
      { what: 'negsample over careful JS', value: (m) => m.ratio.median, target: TARGETS.negativesRatio, format: times },
    ],
  })
}

/** Row 4: one call of 2,048 users x 1 negative into a preallocated buffer. */
function smallCallRow(set, csr, users) {
  const sampler = new Sampler(set.train, { seed: SEED, threads: 1 })
  const careful = carefulNegatives(csr, SEED)
  const out = new Int32Array(users.length)
  console.log('\nrow 4 checks:')
  check('negsample negativesInto', () => checkNegatives('negsample negativesInto', csr, users, 1, sampler.negativesInto(users, 1, new Int32Array(users.length))))
  check('careful JS negatives', () => checkNegatives('careful JS negatives', csr, users, 1, careful(users, 1, new Int32Array(users.length))))
  timePair({
    set: set.name,
    row: 4,
    title: 'one call: 2,048 users (a fixed random sample of the positives\' users) x 1 negative into a preallocated buffer',
    unit: 'negatives',
    units: users.length,
    slow: { name: 'careful JS negatives', run: () => careful(users, 1, out) },
    fast: { name: 'negsample negativesInto', run: () => sampler.negativesInto(users, 1, out) },
    targets: [{ what: 'negsample time per call', value: (m) => m.fast.msPerCall * 1e3, target: TARGETS.smallCallMicros, atMost: true, format: micros }],
  })
}

/** Seeded embeddings: `rows * dim` floats, uniform in [-0.5, 0.5). */
function embeddings(rows, dim, seed) {
  const state = xoshiroState(seed)
  const out = new Float32Array(rows * dim)
  for (let i = 0; i < out.length; i++) out[i] = xoshiroNext(state) / 4294967296 - 0.5
  return out
}

/**
 * Row 5: DNS. A timed call is DNS.batchesPerCall consecutive batches of 2,048 positives of a
 * fixed shuffled order (each side walks the order cyclically), pairwise with k = 1.
 */
function dnsRow(set, csr) {
  const { candidates, dim, batchesPerCall } = DNS
  const emb = { userEmbeddings: embeddings(csr.numUsers, dim, 1), itemEmbeddings: embeddings(csr.numItems, dim, 2), dim }
  const sampler = new Sampler(set.train, { seed: SEED, threads: 1 })
  const hard = new HardNegatives(sampler, { candidates, ...emb, parallel: false })
  const careful = carefulDns(csr, emb.userEmbeddings, emb.itemEmbeddings, dim, candidates, SEED)
  const order = new Sampler(set.train, { seed: SEED + 1, threads: 1 }).shuffledPositives()
  const batches = Math.floor(csr.nnz / BATCH)
  const batchAt = (b) => [order.users.subarray(b * BATCH, (b + 1) * BATCH), order.items.subarray(b * BATCH, (b + 1) * BATCH)]

  console.log(`\nrow 5 checks (M = ${candidates}, dim ${dim}):`)
  const [users, positives] = batchAt(0)
  check('negsample HardNegatives', () => {
    const picked = hardNegatives(sampler, users, positives, { candidates, ...emb, parallel: false, returnCandidates: true })
    const withCandidates = checkDnsBatch('negsample hardNegatives', csr, { users, positives, ...picked }, users, positives, emb, picked.candidates, candidates)
    checkDnsBatch('negsample HardNegatives.pairwise', csr, hard.pairwise(users, positives, 1), users, positives, emb)
    return `${withCandidates}; HardNegatives.pairwise: the same checks but the candidates (not returned)`
  })
  check('careful JS DNS', () => {
    const before = Int32Array.from(careful.state)
    const batch = careful.pairwise(users, positives)
    return checkDnsBatch('careful JS DNS', csr, batch, users, positives, emb, replayDnsCandidates(csr, before, users, candidates), candidates)
  })

  /** A run over the next batchesPerCall batches (a cursor per side). */
  const walker = (call) => {
    let next = 0
    return () => {
      for (let i = 0; i < batchesPerCall; i++) {
        const [u, p] = batchAt(next)
        sink += call(u, p).negatives[0]
        next = next + 1 === batches ? 0 : next + 1
      }
    }
  }
  timePair({
    set: set.name,
    row: 5,
    title: `DNS: M = ${candidates} candidates, dim ${dim}, pairwise k = 1, batches of 2,048, ${batchesPerCall} batches per timed call, 1 thread`,
    note: 'negsample: HardNegatives.pairwise(users, positives, 1) with parallel: false; careful JS: the same exclusion (binary search), M uniform candidates, Float32Array dot products, keep the max',
    unit: 'positives',
    units: batchesPerCall * BATCH,
    slow: { name: 'careful JS DNS', run: walker((u, p) => careful.pairwise(u, p)) },
    fast: { name: 'negsample HardNegatives', run: walker((u, p) => hard.pairwise(u, p, 1)) },
    targets: [{ what: 'negsample over careful JS', value: (m) => m.ratio.median, target: TARGETS.dnsRatio, format: times }],
  })
}

/** Row 6: row 1's epoch with 2 threads against 1 (same seed: the same batches). */
function threadsRow(set, csr, expected) {
  const one = new Sampler(set.train, { seed: SEED, threads: 1 })
  const two = new Sampler(set.train, { seed: SEED, threads: 2 })
  console.log('\nrow 6 checks:')
  check('negsample epoch, 2 threads', () => {
    const a = [...one.epoch({ batchSize: BATCH })]
    const b = [...two.epoch({ batchSize: BATCH })]
    if (a.length !== b.length) throw new Error(`negsample epoch, 2 threads: ${b.length} batches, 1 thread ${a.length}`)
    a.forEach((batch, i) => expectSameBatch(`negsample epoch, 2 threads vs 1, batch ${i}`, batch, b[i]))
    return `identical to 1 thread; ${checkEpoch('negsample epoch, 2 threads', b, csr, { batchSize: BATCH, shape: 'pairwise', k: 1, expected })}`
  })
  const epochOf = (sampler) => () => {
    for (const b of sampler.epoch({ batchSize: BATCH })) sink += b.negatives[0]
  }
  timePair({
    set: set.name,
    row: 6,
    title: 'epoch, pairwise, k = 1, batches of 2,048: threads 2 vs threads 1',
    unit: 'positives',
    units: csr.nnz,
    slow: { name: 'negsample epoch, 1 thread', run: epochOf(one) },
    fast: { name: 'negsample epoch, 2 threads', run: epochOf(two) },
    targets: [{ what: '2 threads over 1', value: (m) => m.ratio.median, target: TARGETS.threadsRatio, format: times }],
  })
}

// ---------------------------------------------------------------------------------------------
// The run

/** All rows on one data set. */
function runSet(set) {
  const csr = csrOf(set.train)
  describeSet(set, csr)
  const expected1 = expectedUniform(csr, 1)
  const shuffled = shuffledUsers(csr.userOf, SEED)
  epochPairwiseRow(set, csr, expected1)
  epochPointwiseRow(set, csr, expectedUniform(csr, 4))
  negativesRow(set, csr, shuffled, expected1)
  smallCallRow(set, csr, shuffled.slice(0, BATCH))
  if (set.name === 'Gowalla-shaped') dnsRow(set, csr)
  if (set.name === (QUICK ? 'Gowalla-shaped' : 'Amazon-Book-shaped')) threadsRow(set, csr, expected1)
}

function printSummary() {
  console.log(`\n### Targets${QUICK ? ' (quick)' : ''}`)
  const rows = [['row', 'data set', 'what', 'target', 'measured', 'verdict'], ...outcomes.map((o) => [String(o.row), o.set, o.what, o.target, o.value, o.verdict])]
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  const line = (r) => '| ' + r.map((v, c) => v.padEnd(widths[c])).join(' | ') + ' |'
  console.log([line(rows[0]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n'))
  const met = outcomes.filter((o) => o.verdict === 'met').length
  console.log(`${met} of ${outcomes.length} targets met (targets are reported, not asserted)`)
}

const started = performance.now()
console.log(`# trainer-shaped calls${QUICK ? ' (quick)' : ''}: ${PAIRED_ROUNDS} alternating rounds per comparison, seed ${SEED}`)
try {
  for (const set of dataSets()) runSet(set)
} catch (error) {
  // An output check that failed (or any other error): the figures would mean nothing.
  console.error(`\n!! trainer-shape stopped: ${error.stack}`)
  process.exit(1)
}
printSummary()
if (Number.isNaN(sink)) console.log('(unreachable: keeps the touched values alive)')
console.log(`\n(trainer-shape: ${((performance.now() - started) / 1e3).toFixed(0)} s)`)
