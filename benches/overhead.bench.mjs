// Per-call cost of a trainer-sized batch: 1,280 draws into a caller's Int32Array, one thread.
//
// - popularity^0.75 over 10^5 items (negativesInto for a user with no positives): 1,280
//   alias draws (one 8-byte table read each) plus the crossing into native code;
// - the uniform proposal over 10^5 items: no table read, so mostly the crossing itself;
// - 320 positives x 4 negatives with exclusion on ml-1m (uniform proposal): a BPR batch.
//
// The popularity suite also times the same call through the napi-rs function
// (negativesInto of native/index.js) that Sampler.negativesInto's direct entry
// (crates/negsample-node/src/fast_call.rs) replaces: the difference is napi-rs's per-call cost.
import { buildJsAlias, jsAliasSampler, jsCsrExclusionSampler, keystoneSampler, tfMultinomialSampler, tutorialStringSet, tutorialUserSets } from './lib/contenders.mjs'
import { expectFit, expectNoPositives } from './lib/check.mjs'
import { loadAdjacency, popularityWeights, sfc32, shuffledUsers } from './lib/data.mjs'
import { QUICK, compare, negsample } from './lib/harness.mjs'
import { createRequire } from 'node:module'

const { Interactions, Sampler } = negsample()
/** The napi-rs call behind a Sampler, to show what the direct entry (fast_call.rs) saves. */
const require = createRequire(import.meta.url)
const { nativeSampler } = require('../dist/sampler.js')
const { negativesInto: napiNegativesInto } = require('../native/index.js')
const BATCH = 1280
/** Checks look at this many draws, made by repeated batch calls. */
const CHECK_DRAWS = 256_000

function repeat(fill, total) {
  const all = new Int32Array(total)
  const buffer = new Int32Array(BATCH)
  for (let at = 0; at < total; at += BATCH) all.set(fill(buffer).subarray(0, Math.min(BATCH, total - at)), at)
  return all
}

{
  const numItems = 100_000
  const weights = popularityWeights(numItems, 42)
  const train = Interactions.fromCoo(new Int32Array(0), new Int32Array(0), { numUsers: 1, numItems })
  const sampler = new Sampler(train, { weights, seed: 3n, threads: 1 })
  const user = Int32Array.of(0)
  const out = new Int32Array(BATCH)
  const ours = (buffer) => sampler.negativesInto(user, BATCH, buffer)
  const method = nativeSampler(new Sampler(train, { weights, seed: 3n, threads: 1 }))
  const viaMethod = (buffer) => (napiNegativesInto(method, user, BATCH, buffer), buffer)
  const jsAlias = jsAliasSampler(buildJsAlias(weights), 5)
  const keystone = keystoneSampler(weights)
  const tf = await tfMultinomialSampler(weights, 1)
  compare({
    title: `a ${BATCH.toLocaleString('en-US')}-draw batch into a caller's Int32Array: popularity^0.75 over 100,000 items, 1 thread`,
    note: `negsample kernel ${sampler.kernel}; tf.multinomial: [1, ${numItems}] logits, ${BATCH} samples`,
    contenders: [
      { name: 'negsample negativesInto', draws: BATCH, verify: () => expectFit('negsample', repeat(ours, CHECK_DRAWS), weights, 64), run: () => ours(out) },
      {
        name: 'negsample through its napi-rs method',
        draws: BATCH,
        verify: () => expectFit('napi-rs method', repeat(viaMethod, CHECK_DRAWS), weights, 64),
        run: () => viaMethod(out),
      },
      { name: 'hand-written JS alias (typed arrays, sfc32)', draws: BATCH, verify: () => expectFit('JS alias', repeat(jsAlias, CHECK_DRAWS), weights, 64), run: () => jsAlias(out) },
      { name: '@keystonehq/alias-sampling', draws: BATCH, verify: () => expectFit('keystone', repeat(keystone, CHECK_DRAWS), weights, 64), run: () => keystone(out) },
      {
        name: 'tf.multinomial',
        draws: BATCH,
        verify: () => expectFit('tf.multinomial', repeat(tf.fill, QUICK ? 2 * BATCH : 4 * BATCH), weights, 16),
        run: () => tf.fill(out),
        timing: { minSamples: 3, maxTime: QUICK ? 0.5 : 2 },
      },
    ],
  })
}

{
  // The uniform proposal: no table to read, so this is nearly all call overhead.
  const numItems = 100_000
  const train = Interactions.fromCoo(new Int32Array(0), new Int32Array(0), { numUsers: 1, numItems })
  const sampler = new Sampler(train, { proposal: 'uniform', seed: 4n, threads: 1 })
  const user = Int32Array.of(0)
  const out = new Int32Array(BATCH)
  const flat = new Float64Array(numItems).fill(1)
  const ours = (buffer) => sampler.negativesInto(user, BATCH, buffer)
  const next = sfc32(8)
  const scale = numItems / 4294967296
  const jsUniform = (buffer) => {
    for (let i = 0; i < buffer.length; i++) buffer[i] = (next() * scale) | 0
    return buffer
  }
  const tutorial = (buffer) => {
    for (let i = 0; i < buffer.length; i++) buffer[i] = Math.floor(Math.random() * numItems)
    return buffer
  }
  compare({
    title: `a ${BATCH.toLocaleString('en-US')}-draw batch into a caller's Int32Array: uniform over 100,000 items, 1 thread`,
    note: `negsample kernel ${sampler.kernel}`,
    contenders: [
      { name: 'negsample negativesInto', draws: BATCH, verify: () => expectFit('negsample', repeat(ours, CHECK_DRAWS), flat, 64), run: () => ours(out) },
      { name: 'JS multiply-shift over sfc32', draws: BATCH, verify: () => expectFit('JS sfc32', repeat(jsUniform, CHECK_DRAWS), flat, 64), run: () => jsUniform(out) },
      { name: 'tutorial: Math.floor(Math.random() * n)', draws: BATCH, verify: () => expectFit('Math.random', repeat(tutorial, CHECK_DRAWS), flat, 64), run: () => tutorial(out) },
    ],
  })
}

const ml = loadAdjacency('ml-1m')
if (ml === null) {
  console.log('\n### a BPR batch on ml-1m: skipped, ../shared/data/ml-1m/train.txt is absent')
} else {
  const K = 4
  const train = Interactions.fromCoo(ml.users, ml.items, { numUsers: ml.numUsers, numItems: ml.numItems })
  const indptr = train.indptr()
  const indices = train.indices()
  const all = shuffledUsers(ml.users, 1)
  const positives = BATCH / K
  // Each call takes the next slice of an epoch's shuffled positives.
  const slices = Array.from({ length: Math.floor(all.length / positives) }, (_, b) => all.subarray(b * positives, (b + 1) * positives))
  let next = 0
  const batch = () => slices[next++ % slices.length]
  const sampler = new Sampler(train, { seed: 5n, threads: 1 })
  const careful = jsCsrExclusionSampler(indptr, indices, ml.numItems, 17)
  const perUser = tutorialUserSets(all, (u) => indices.subarray(indptr[u], indptr[u + 1]), ml.numItems)
  const strings = tutorialStringSet(ml.users, ml.items, ml.numItems)
  const out = new Int32Array(BATCH)
  const fills = {
    negsample: (users, o) => sampler.negativesInto(users, K, o),
    careful: (users, o) => careful(users, K, o),
    perUser: (users, o) => perUser(users, K, o),
    strings: (users, o) => strings(users, K, o),
  }
  const verify = (label, fill) => () => {
    const summaries = []
    for (let b = 0; b < 50; b++) {
      const users = slices[b]
      summaries.push(expectNoPositives(label, users, K, fill(users, new Int32Array(BATCH)), indptr, indices))
    }
    return `50 batches: ${summaries.length * BATCH} negatives, none a positive`
  }
  compare({
    title: `a BPR batch on ml-1m: ${positives} positives x ${K} negatives with exclusion (${BATCH} draws) into a caller's Int32Array, uniform proposal, 1 thread`,
    note: `negsample kernel ${sampler.kernel}; each call takes the next ${positives} positives of a shuffled epoch`,
    contenders: [
      { name: 'negsample negativesInto', draws: BATCH, verify: verify('negsample', fills.negsample), run: () => fills.negsample(batch(), out) },
      { name: 'careful JS (typed-array CSR, binary search, sfc32)', draws: BATCH, verify: verify('careful', fills.careful), run: () => fills.careful(batch(), out) },
      { name: 'tutorial: Set<number> per user', draws: BATCH, verify: verify('per-user Set', fills.perUser), run: () => fills.perUser(batch(), out) },
      { name: 'tutorial: Set of "user,item" strings', draws: BATCH, verify: verify('string Set', fills.strings), run: () => fills.strings(batch(), out) },
    ],
  })
}
