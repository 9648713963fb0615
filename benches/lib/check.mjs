// Output checks run on every contender before it is timed: ids in range, no positive among the
// negatives, and a chi-square goodness-of-fit test of the draws against the distribution they
// must follow (items grouped into buckets of about equal expected mass). A contender that fails
// is reported and not timed.

import { chiSquareP } from './statistics.mjs'

/** Draws whose fit must have a p-value above this to pass (a sanity check, not a fine test). */
export const P_MIN = 1e-6

/**
 * Chi-square test of `draws` (item ids) against `expected` (one non-negative mass per item, any
 * scale): items are grouped in id order into about `buckets` buckets of equal expected mass.
 * Returns { p, stat, df }. Throws if a draw is not an id in [0, expected.length).
 */
export function fit(draws, expected, buckets) {
  const n = expected.length
  let total = 0
  for (let i = 0; i < n; i++) total += expected[i]
  const bucketOf = new Int32Array(n)
  const mass = []
  let b = 0
  let running = 0
  for (let i = 0; i < n; i++) {
    bucketOf[i] = b
    running += expected[i]
    if (running >= (total / buckets) * (b + 1) && b < buckets - 1) b++
  }
  const used = b + 1
  for (let k = 0; k < used; k++) mass.push(0)
  for (let i = 0; i < n; i++) mass[bucketOf[i]] += expected[i] / total
  const observed = new Float64Array(used)
  for (let j = 0; j < draws.length; j++) {
    const i = draws[j]
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`draw ${j} = ${i} is not an item id in [0, ${n})`)
    if (expected[i] === 0) throw new Error(`draw ${j} = ${i} has probability 0`)
    observed[bucketOf[i]]++
  }
  let stat = 0
  let df = -1
  for (let k = 0; k < used; k++) {
    const e = mass[k] * draws.length
    if (e === 0) continue
    stat += ((observed[k] - e) * (observed[k] - e)) / e
    df++
  }
  return { p: chiSquareP(stat, df), stat, df }
}

/** Throws unless the fit passes; returns a one-line summary. */
export function expectFit(label, draws, expected, buckets) {
  const { p, stat, df } = fit(draws, expected, buckets)
  const summary = `${draws.length} draws, chi2 = ${stat.toFixed(1)} on ${df} df, p = ${p.toExponential(2)}`
  if (!(p > P_MIN)) throw new Error(`${label}: distribution check failed: ${summary} (need p > ${P_MIN})`)
  return summary
}

/**
 * Expected frequency of each item among uniform negatives of `users` (k per user, each drawn
 * uniformly from the user's non-positives), from the CSR arrays: item i gets
 * sum over j of k / (numItems - |row(u_j)|), minus that user's share where i is a positive.
 */
export function uniformExclusionExpected(users, k, indptr, indices, numItems) {
  const occurrences = new Map()
  for (const u of users) occurrences.set(u, (occurrences.get(u) ?? 0) + 1)
  const expected = new Float64Array(numItems)
  let everywhere = 0
  for (const [u, count] of occurrences) {
    const start = indptr[u]
    const end = indptr[u + 1]
    const share = (count * k) / (numItems - (end - start))
    everywhere += share
    for (let p = start; p < end; p++) expected[indices[p]] -= share
  }
  for (let i = 0; i < numItems; i++) expected[i] = Math.max(0, expected[i] + everywhere)
  return expected
}

/** Throws if any negative out[j * k + c] is a positive of users[j] (binary search in the CSR row). */
export function expectNoPositives(label, users, k, out, indptr, indices) {
  for (let j = 0; j < users.length; j++) {
    const u = users[j]
    for (let c = 0; c < k; c++) {
      const item = out[j * k + c]
      let lo = indptr[u]
      let hi = indptr[u + 1]
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (indices[mid] < item) lo = mid + 1
        else hi = mid
      }
      if (lo < indptr[u + 1] && indices[lo] === item) {
        throw new Error(`${label}: negative ${j * k + c} = ${item} is a positive of user ${u}`)
      }
    }
  }
  return `${out.length} negatives, none a positive`
}
