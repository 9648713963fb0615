// popularity^0.75 draws over 10^5 and 10^7 items into a caller's Int32Array of 10^6, one
// thread: negsample (negativesInto for a user with no positives, so nothing is excluded)
// against a hand-written JavaScript alias sampler, @keystonehq/alias-sampling and
// tf.multinomial. Every contender draws from the same weights; each is checked by a
// chi-square fit against them before it is timed. The ratio to the hand-written sampler (the
// 20x target) is also measured in alternating rounds (lib/paired.mjs).
import { buildJsAlias, jsAliasSampler, keystoneSampler, tfMultinomialSampler, tfRowsRepeat } from './lib/contenders.mjs'
import { expectFit } from './lib/check.mjs'
import { popularityWeights } from './lib/data.mjs'
import { QUICK, compare, negsample } from './lib/harness.mjs'
import { describePaired, pairedRatio } from './lib/paired.mjs'

const { Interactions, Sampler } = negsample()
const DRAWS = 1_000_000

/** Draws `total` items by repeated calls of `fill` into a buffer of `size`. */
function collect(fill, size, total) {
  const all = new Int32Array(total)
  const buffer = new Int32Array(size)
  for (let at = 0; at < total; at += size) {
    fill(buffer)
    all.set(buffer.subarray(0, Math.min(size, total - at)), at)
  }
  return all
}

// --quick: 10^6 instead of 10^7 items for the large table (building 10^7-entry JavaScript
// tables takes most of a quick run).
for (const numItems of [100_000, QUICK ? 1_000_000 : 10_000_000]) {
  const weights = popularityWeights(numItems, 42)
  const out = new Int32Array(DRAWS)

  // negsample: one user with no positives; k = 10^6 negatives of it fill `out`.
  const train = Interactions.fromCoo(new Int32Array(0), new Int32Array(0), { numUsers: 1, numItems })
  const sampler = new Sampler(train, { weights, seed: 7n, threads: 1 })
  const user = Int32Array.of(0)
  const ours = (buffer) => sampler.negativesInto(user, buffer.length, buffer)

  const jsAlias = jsAliasSampler(buildJsAlias(weights), 12345)
  const keystone = keystoneSampler(weights)
  // One row per call: tf.multinomial on the CPU backend (tfjs 4.22) repeats the same draws in
  // every row of a call (checked below on a [2, n] matrix), so a call of several identical rows
  // gives dependent draws that fail the chi-square check. Calls are independent of each other.
  const tfBatch = 1
  const tfSamples = numItems > 1e6 ? 16 : 256
  const tf = await tfMultinomialSampler(weights, tfBatch)
  const rowsRepeat = numItems > 1e6 ? 'not checked at this size' : await tfRowsRepeat(weights)
  const tfOut = new Int32Array(tfBatch * tfSamples)
  const tfCheckDraws = numItems > 1e6 ? 64 : QUICK ? 1024 : 4096

  compare({
    title: `popularity^0.75 over ${numItems.toLocaleString('en-US')} items, ${DRAWS.toLocaleString('en-US')} draws per call into a caller's Int32Array, 1 thread`,
    note: `negsample kernel: ${sampler.kernel}; tf.multinomial: [${tfBatch}, ${numItems}] logits, ${tfSamples} samples per row (backend ${tf.backend}); with 2 rows, its rows repeat each other: ${rowsRepeat}`,
    contenders: [
      {
        name: 'negsample negativesInto',
        draws: DRAWS,
        verify: () => expectFit('negsample', ours(new Int32Array(DRAWS)), weights, 64),
        run: () => ours(out),
      },
      {
        name: 'hand-written JS alias (typed arrays, sfc32)',
        draws: DRAWS,
        verify: () => expectFit('JS alias', jsAlias(new Int32Array(DRAWS)), weights, 64),
        run: () => jsAlias(out),
      },
      {
        name: '@keystonehq/alias-sampling',
        draws: DRAWS,
        verify: () => expectFit('keystone', keystone(new Int32Array(DRAWS)), weights, 64),
        run: () => keystone(out),
      },
      {
        name: `tf.multinomial (${tfBatch}x${tfSamples} per call)`,
        draws: tfBatch * tfSamples,
        verify: () => expectFit('tf.multinomial', collect(tf.fill, tfBatch * tfSamples, tfCheckDraws), weights, 8),
        run: () => tf.fill(tfOut),
        // One call over 10^7 logits takes a good fraction of a second: a few samples suffice.
        timing: numItems > 1e6 ? { minSamples: 2, maxTime: 1 } : {},
      },
    ],
  })
  // The 20x target's ratio again, with both sides timed in the same rounds.
  const paired = pairedRatio(() => jsAlias(out), () => ours(out))
  console.log(describePaired('negsample over the hand-written JS alias', paired, numItems === 100_000 ? 20 : undefined))
}
