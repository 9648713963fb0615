// A speed ratio measured in alternating rounds. The VM's speed drifts, in spells of seconds, by
// more than the margins some targets have; benchmark.js times one contender and then the next,
// so a spell can land on one side of a ratio only. Here each round times both sides back to
// back (which goes first alternates), and the ratio of the two is that round's ratio.
import { QUICK } from './harness.mjs'

/** Alternating rounds (each round times both sides). */
export const PAIRED_ROUNDS = QUICK ? 11 : 41
/** Each side of a round repeats its call for at least this long. */
const ROUND_MS = QUICK ? 10 : 25

/** Milliseconds per call of `run`, over at least ROUND_MS. */
function perCall(run) {
  let calls = 0
  const start = performance.now()
  let now = start
  do {
    run()
    calls++
    now = performance.now()
  } while (now - start < ROUND_MS)
  return (now - start) / calls
}

/**
 * How many times faster `fast` runs than `slow`, in PAIRED_ROUNDS alternating rounds: the median
 * round's ratio with the quartiles, and the ratio of each side's fastest round (the ratio when
 * the machine ran both at full speed: slow spells only ever add time).
 */
export function pairedRatio(slow, fast) {
  slow()
  fast()
  const ratios = []
  let fastestSlow = Infinity
  let fastestFast = Infinity
  for (let r = 0; r < PAIRED_ROUNDS; r++) {
    let a, b
    if (r % 2 === 0) {
      a = perCall(slow)
      b = perCall(fast)
    } else {
      b = perCall(fast)
      a = perCall(slow)
    }
    ratios.push(a / b)
    fastestSlow = Math.min(fastestSlow, a)
    fastestFast = Math.min(fastestFast, b)
  }
  ratios.sort((x, y) => x - y)
  const at = (q) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))]
  return { median: at(0.5), low: at(0.25), high: at(0.75), fastest: fastestSlow / fastestFast }
}

/** One line for a paired ratio: "paired: <what>: <median>x (median of N alternating rounds; ...)". */
export function describePaired(what, { median, low, high, fastest }, target) {
  const verdict = target === undefined ? '' : `; target >= ${target}x: ${median >= target ? 'met' : 'missed'}`
  return `paired: ${what}: ${median.toFixed(2)}x (median of ${PAIRED_ROUNDS} alternating rounds; quartiles ${low.toFixed(2)}x to ${high.toFixed(2)}x)${verdict}; fastest round of each side: ${fastest.toFixed(2)}x`
}
