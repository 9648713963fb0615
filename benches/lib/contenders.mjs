// What a Node user has today, written here for the benchmarks (none of it is negsample):
//
// - a hand-written alias sampler over typed arrays with a fast PRNG (sfc32, inlined), the
//   best a careful user writes: Vose's construction, uint32 thresholds, two 32-bit random
//   numbers per draw (slot and coin), no allocation per draw;
// - the same careful style for negatives with exclusion: CSR rows in typed arrays and a
//   binary search per candidate;
// - @keystonehq/alias-sampling, the most-installed alias sampler on npm;
// - the rejection loops of tutorials: Math.random() candidates checked against one Set of
//   "user,item" strings, or against one Set<number> per user;
// - tf.multinomial from @tensorflow/tfjs (pure JavaScript CPU backend) over a logits matrix.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** Vose's alias table: uint32 thresholds (probability of keeping the slot, times 2^32) and aliases. */
export function buildJsAlias(weights) {
  const n = weights.length
  let sum = 0
  for (let i = 0; i < n; i++) sum += weights[i]
  const p = new Float64Array(n)
  for (let i = 0; i < n; i++) p[i] = (weights[i] * n) / sum
  const small = new Int32Array(n)
  const large = new Int32Array(n)
  let ns = 0
  let nl = 0
  for (let i = 0; i < n; i++) {
    if (p[i] < 1) small[ns++] = i
    else large[nl++] = i
  }
  const threshold = new Uint32Array(n)
  const alias = new Int32Array(n)
  while (ns > 0 && nl > 0) {
    const s = small[--ns]
    const l = large[nl - 1]
    threshold[s] = Math.min(4294967295, Math.round(p[s] * 4294967296))
    alias[s] = l
    p[l] = p[l] + p[s] - 1
    if (p[l] < 1) {
      nl--
      small[ns++] = l
    }
  }
  while (nl > 0) {
    const i = large[--nl]
    threshold[i] = 4294967295
    alias[i] = i
  }
  while (ns > 0) {
    const i = small[--ns]
    threshold[i] = 4294967295
    alias[i] = i
  }
  return { threshold, alias, n }
}

/**
 * A draw loop over the JS alias table into `out`, with an inlined sfc32 generator whose state
 * persists across calls. Per draw: two uint32 (slot by multiply-shift, coin), one threshold
 * read, maybe one alias read.
 */
export function jsAliasSampler(table, seed) {
  const { threshold, alias, n } = table
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const scale = n / 4294967296
  return function fill(out) {
    const len = out.length
    for (let i = 0; i < len; i++) {
      let t = (((a + b) | 0) + d) | 0
      d = (d + 1) | 0
      a = b ^ (b >>> 9)
      b = (c + (c << 3)) | 0
      c = (c << 21) | (c >>> 11)
      c = (c + t) | 0
      const slot = ((t >>> 0) * scale) | 0
      t = (((a + b) | 0) + d) | 0
      d = (d + 1) | 0
      a = b ^ (b >>> 9)
      b = (c + (c << 3)) | 0
      c = (c << 21) | (c >>> 11)
      c = (c + t) | 0
      out[i] = t >>> 0 < threshold[slot] ? slot : alias[slot]
    }
    return out
  }
}

/**
 * Negatives with exclusion, careful JavaScript: uniform candidates from sfc32 (inlined),
 * checked by binary search in the user's sorted CSR row (typed arrays), redrawn on a hit.
 */
export function jsCsrExclusionSampler(indptr, indices, numItems, seed) {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const scale = numItems / 4294967296
  return function fill(users, k, out) {
    let o = 0
    for (let j = 0; j < users.length; j++) {
      const u = users[j]
      const start = indptr[u]
      const end = indptr[u + 1]
      for (let r = 0; r < k; r++) {
        let item
        for (;;) {
          const t = (((a + b) | 0) + d) | 0
          d = (d + 1) | 0
          a = b ^ (b >>> 9)
          b = (c + (c << 3)) | 0
          c = (c << 21) | (c >>> 11)
          c = (c + t) | 0
          item = ((t >>> 0) * scale) | 0
          let lo = start
          let hi = end
          while (lo < hi) {
            const mid = (lo + hi) >>> 1
            if (indices[mid] < item) lo = mid + 1
            else hi = mid
          }
          if (lo === end || indices[lo] !== item) break
        }
        out[o++] = item
      }
    }
    return out
  }
}

/** @keystonehq/alias-sampling over the weights (a plain array, as its API requires), Math.random. */
export function keystoneSampler(weights) {
  const sample = require('@keystonehq/alias-sampling').default
  const sampler = sample(Array.from(weights))
  return function fill(out) {
    const len = out.length
    for (let i = 0; i < len; i++) out[i] = sampler.next()
    return out
  }
}

/** The tutorial loop with one Set of "user,item" strings over all positives. */
export function tutorialStringSet(users, items, numItems) {
  const seen = new Set()
  for (let j = 0; j < users.length; j++) seen.add(users[j] + ',' + items[j])
  return function fill(batchUsers, k, out) {
    let o = 0
    for (let j = 0; j < batchUsers.length; j++) {
      const u = batchUsers[j]
      for (let r = 0; r < k; r++) {
        let item
        do {
          item = Math.floor(Math.random() * numItems)
        } while (seen.has(u + ',' + item))
        out[o++] = item
      }
    }
    return out
  }
}

/**
 * The tutorial loop with one Set<number> per user. `rowOf(u)` gives a user's positives; sets
 * are built for the users in `neededUsers` only (all of them, in a real program).
 */
export function tutorialUserSets(neededUsers, rowOf, numItems) {
  const sets = new Map()
  for (const u of neededUsers) if (!sets.has(u)) sets.set(u, new Set(rowOf(u)))
  return function fill(batchUsers, k, out) {
    let o = 0
    for (let j = 0; j < batchUsers.length; j++) {
      const positives = sets.get(batchUsers[j])
      for (let r = 0; r < k; r++) {
        let item
        do {
          item = Math.floor(Math.random() * numItems)
        } while (positives.has(item))
        out[o++] = item
      }
    }
    return out
  }
}

/**
 * tf.multinomial over a [batch, numItems] logits matrix (log weights, each row the same
 * proposal), `numSamples` draws per row, copied into `out` (batch * numSamples long).
 */
export async function tfMultinomialSampler(weights, batch) {
  const tf = require('@tensorflow/tfjs')
  await tf.setBackend('cpu')
  const logRow = Float32Array.from(weights, (w) => (w > 0 ? Math.log(w) : -Infinity))
  const matrix = new Float32Array(batch * weights.length)
  for (let b = 0; b < batch; b++) matrix.set(logRow, b * weights.length)
  const logits = tf.tensor2d(matrix, [batch, weights.length])
  return {
    backend: tf.getBackend(),
    fill(out) {
      const drawn = tf.multinomial(logits, out.length / batch)
      out.set(drawn.dataSync())
      drawn.dispose()
      return out
    },
    dispose: () => logits.dispose(),
  }
}

/**
 * Whether tf.multinomial gives the same draws in both rows of one call over a [2, n] matrix of
 * identical logits rows (it should not: the rows' draws should be independent). Returns 'yes'
 * or 'no' with the number of equal positions out of 256.
 */
export async function tfRowsRepeat(weights) {
  const tf = await tfMultinomialSampler(weights, 2)
  const out = tf.fill(new Int32Array(2 * 256))
  let equal = 0
  for (let j = 0; j < 256; j++) if (out[j] === out[256 + j]) equal++
  tf.dispose()
  return `${equal === 256 ? 'yes' : 'no'} (${equal} of 256 positions equal)`
}
