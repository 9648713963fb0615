// The "careful JavaScript" contenders of benches/trainer-shape.bench.mjs, their output checks,
// and the paired timing that reports each side's throughput as well as the ratio.
//
// The careful contender is what a competent user writes without negsample, as tight as we could
// make it:
// - the training positives as CSR in typed arrays, rows sorted (Int32Array indptr / indices,
//   plus the user of each CSR position), built once outside the timing;
// - xoshiro128** in 32-bit integer operations, inlined in every hot loop, its state held in
//   locals during a call and stored back at the end;
// - uniform candidates by multiply-shift (for a uniform proposal a careful user needs no alias
//   table; every row of the suite uses the uniform proposal), a binary search in the user's
//   sorted row, and a redraw on a hit. The search is branchless: `base` moves up by `half` when
//   the probe is <= the candidate, through a mask ((probe - item - 1) >> 31 is -1 exactly then;
//   ids are below 2^31, so it cannot overflow), so V8 emits no unpredictable branch; on the
//   Gowalla-shaped set it measured twice as fast as the textbook `if (a[mid] < x) lo = mid + 1`;
// - an epoch as negsample's: a Fisher-Yates shuffle of every positive, inside the timing, then
//   fresh typed arrays per batch.
// The tutorial contender (one Set<number> per user, Math.random candidates) is there for context.
import * as fs from 'node:fs'
import { expectFit, uniformExclusionExpected } from './check.mjs'
import { QUICK } from './harness.mjs'
import { pairedRatio } from './paired.mjs'

// ---------------------------------------------------------------------------------------------
// Random numbers

/** xoshiro128** state (four 32-bit words, as int32) from a seed, filled by splitmix32. */
export function xoshiroState(seed) {
  let z = seed >>> 0
  const state = new Int32Array(4)
  for (let w = 0; w < 4; w++) {
    z = (z + 0x9e3779b9) | 0
    let t = z ^ (z >>> 16)
    t = Math.imul(t, 0x21f0aaad)
    t ^= t >>> 15
    t = Math.imul(t, 0x735a2d97)
    state[w] = t ^ (t >>> 15)
  }
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1
  return state
}

/**
 * The next uint32 of a xoshiro128** state, advancing it: the reference the inlined copies in the
 * hot loops must match (the DNS check replays a call with it).
 */
export function xoshiroNext(state) {
  let s0 = state[0]
  let s1 = state[1]
  let s2 = state[2]
  let s3 = state[3]
  const m = Math.imul(s1, 5)
  const r = Math.imul((m << 7) | (m >>> 25), 9)
  const t = s1 << 9
  s2 ^= s0
  s3 ^= s1
  s1 ^= s2
  s0 ^= s3
  s2 ^= t
  s3 = (s3 << 11) | (s3 >>> 21)
  state[0] = s0
  state[1] = s1
  state[2] = s2
  state[3] = s3
  return r >>> 0
}

// ---------------------------------------------------------------------------------------------
// Data

/**
 * The positives of an `Interactions` as JavaScript-owned CSR typed arrays: `indptr` (numUsers + 1),
 * `indices` (each row sorted), and `userOf` (the user of each CSR position).
 */
export function csrOf(interactions) {
  const indptr = Int32Array.from(interactions.indptr())
  const indices = Int32Array.from(interactions.indices())
  const numUsers = interactions.numUsers
  const userOf = new Int32Array(indices.length)
  for (let u = 0; u < numUsers; u++) userOf.fill(u, indptr[u], indptr[u + 1])
  for (let u = 0; u < numUsers; u++) {
    for (let p = indptr[u] + 1; p < indptr[u + 1]; p++) {
      if (indices[p - 1] >= indices[p]) throw new Error(`row ${u} of the matrix is not sorted and de-duplicated`)
    }
  }
  return { numUsers, numItems: interactions.numItems, nnz: indices.length, indptr, indices, userOf }
}

/** The CSR position of (user, item), or -1 if it is not a positive (binary search in the row). */
export function positionOf(csr, user, item) {
  const { indptr, indices } = csr
  let lo = indptr[user]
  const end = indptr[user + 1]
  let hi = end
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (indices[mid] < item) lo = mid + 1
    else hi = mid
  }
  return lo < end && indices[lo] === item ? lo : -1
}

// ---------------------------------------------------------------------------------------------
// The careful contenders

/**
 * Careful negatives with exclusion into a caller's buffer: `fill(users, k, out)` writes k
 * negatives of users[j] at out[j * k ...].
 */
export function carefulNegatives(csr, seed) {
  const { indptr, indices, numItems } = csr
  const state = xoshiroState(seed)
  const scale = numItems / 4294967296
  return function fill(users, k, out) {
    let s0 = state[0]
    let s1 = state[1]
    let s2 = state[2]
    let s3 = state[3]
    let o = 0
    const n = users.length
    for (let j = 0; j < n; j++) {
      const u = users[j]
      const start = indptr[u]
      const len = indptr[u + 1] - start
      for (let r = 0; r < k; r++) {
        let item
        for (;;) {
          const m = Math.imul(s1, 5)
          const x = Math.imul((m << 7) | (m >>> 25), 9)
          const t = s1 << 9
          s2 ^= s0
          s3 ^= s1
          s1 ^= s2
          s0 ^= s3
          s2 ^= t
          s3 = (s3 << 11) | (s3 >>> 21)
          item = ((x >>> 0) * scale) | 0
          // Branchless binary search (see the header): base ends on the last
          // position of the row holding an id <= item.
          let base = start
          let n = len
          while (n > 1) {
            const half = n >>> 1
            base += half & ((indices[base + half] - item - 1) >> 31)
            n -= half
          }
          if (len === 0 || indices[base] !== item) break
        }
        out[o++] = item
      }
    }
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return out
  }
}

/**
 * A careful epoch: `pairwise(batchSize)` and `pointwise(batchSize, k)` return iterators over
 * every positive once, in a fresh shuffled order (Fisher-Yates, inside the iteration), in batches
 * of fresh typed arrays shaped as negsample's (pairwise: users, positives, negatives; pointwise:
 * users, items, labels, each positive followed by its k negatives).
 *
 * What is shuffled is the positives themselves, as (user, item) pairs interleaved in one
 * Int32Array, so that a swap touches one cache line per side and a batch reads its pairs in
 * order. (Shuffling a permutation of CSR positions instead, then reading `userOf[p]` and
 * `indices[p]` for each, costs two more random reads per positive; it measured slower.)
 */
export function carefulEpoch(csr, seed) {
  const { indptr, indices, userOf, numItems, nnz } = csr
  const pairs = new Int32Array(2 * nnz)
  for (let p = 0; p < nnz; p++) {
    pairs[2 * p] = userOf[p]
    pairs[2 * p + 1] = indices[p]
  }
  const state = xoshiroState(seed)
  const scale = numItems / 4294967296

  /** Fisher-Yates over the pairs, in place. */
  function shuffle() {
    let s0 = state[0]
    let s1 = state[1]
    let s2 = state[2]
    let s3 = state[3]
    for (let i = nnz - 1; i > 0; i--) {
      const m = Math.imul(s1, 5)
      const x = Math.imul((m << 7) | (m >>> 25), 9)
      const t = s1 << 9
      s2 ^= s0
      s3 ^= s1
      s1 ^= s2
      s0 ^= s3
      s2 ^= t
      s3 = (s3 << 11) | (s3 >>> 21)
      // j uniform in [0, i] by multiply-shift (x * (i + 1) < 2^54: exact to within one unit).
      const j = ((x >>> 0) * (i + 1) * 2.3283064365386963e-10) | 0
      const a = 2 * i
      const b = 2 * j
      const u = pairs[a]
      const v = pairs[a + 1]
      pairs[a] = pairs[b]
      pairs[a + 1] = pairs[b + 1]
      pairs[b] = u
      pairs[b + 1] = v
    }
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
  }

  /** Pairwise rows for the pairs [from, to) of the current order. */
  function pairwiseBatch(from, to) {
    const n = to - from
    const users = new Int32Array(n)
    const positives = new Int32Array(n)
    const negatives = new Int32Array(n)
    let s0 = state[0]
    let s1 = state[1]
    let s2 = state[2]
    let s3 = state[3]
    for (let j = 0; j < n; j++) {
      const u = pairs[2 * (from + j)]
      users[j] = u
      positives[j] = pairs[2 * (from + j) + 1]
      const start = indptr[u]
      const len = indptr[u + 1] - start
      let item
      for (;;) {
        const m = Math.imul(s1, 5)
        const x = Math.imul((m << 7) | (m >>> 25), 9)
        const t = s1 << 9
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 11) | (s3 >>> 21)
        item = ((x >>> 0) * scale) | 0
        // Branchless binary search (see the header): base ends on the last
        // position of the row holding an id <= item.
        let base = start
        let n = len
        while (n > 1) {
          const half = n >>> 1
          base += half & ((indices[base + half] - item - 1) >> 31)
          n -= half
        }
        if (len === 0 || indices[base] !== item) break
      }
      negatives[j] = item
    }
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return { users, positives, negatives }
  }

  /** Pointwise rows for the pairs [from, to): each positive (label 1), then its k negatives (label 0). */
  function pointwiseBatch(from, to, k) {
    const rows = (to - from) * (1 + k)
    const users = new Int32Array(rows)
    const items = new Int32Array(rows)
    const labels = new Float32Array(rows)
    let s0 = state[0]
    let s1 = state[1]
    let s2 = state[2]
    let s3 = state[3]
    let o = 0
    for (let p = from; p < to; p++) {
      const u = pairs[2 * p]
      users[o] = u
      items[o] = pairs[2 * p + 1]
      labels[o] = 1
      o++
      const start = indptr[u]
      const len = indptr[u + 1] - start
      for (let r = 0; r < k; r++) {
        let item
        for (;;) {
          const m = Math.imul(s1, 5)
          const x = Math.imul((m << 7) | (m >>> 25), 9)
          const t = s1 << 9
          s2 ^= s0
          s3 ^= s1
          s1 ^= s2
          s0 ^= s3
          s2 ^= t
          s3 = (s3 << 11) | (s3 >>> 21)
          item = ((x >>> 0) * scale) | 0
          // Branchless binary search (see the header): base ends on the last
          // position of the row holding an id <= item.
          let base = start
          let n = len
          while (n > 1) {
            const half = n >>> 1
            base += half & ((indices[base + half] - item - 1) >> 31)
            n -= half
          }
          if (len === 0 || indices[base] !== item) break
        }
        users[o] = u
        items[o] = item
        o++
      }
    }
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return { users, items, labels }
  }

  return {
    *pairwise(batchSize) {
      shuffle()
      for (let from = 0; from < nnz; from += batchSize) yield pairwiseBatch(from, Math.min(nnz, from + batchSize))
    },
    *pointwise(batchSize, k) {
      shuffle()
      for (let from = 0; from < nnz; from += batchSize) yield pointwiseBatch(from, Math.min(nnz, from + batchSize), k)
    },
  }
}

/**
 * The tutorial epoch: one Set<number> of positives per user (built once), the positives shuffled
 * with Math.random, candidates Math.floor(Math.random() * numItems) redrawn while in the user's
 * Set, fresh typed arrays per batch. `pairwise(batchSize)` as carefulEpoch's.
 */
export function tutorialEpoch(csr) {
  const { indptr, indices, userOf, numUsers, numItems, nnz } = csr
  const sets = []
  for (let u = 0; u < numUsers; u++) sets.push(new Set(indices.subarray(indptr[u], indptr[u + 1])))
  const order = new Int32Array(nnz)
  for (let p = 0; p < nnz; p++) order[p] = p
  return {
    *pairwise(batchSize) {
      for (let i = nnz - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1))
        const t = order[i]
        order[i] = order[j]
        order[j] = t
      }
      for (let from = 0; from < nnz; from += batchSize) {
        const n = Math.min(batchSize, nnz - from)
        const users = new Int32Array(n)
        const positives = new Int32Array(n)
        const negatives = new Int32Array(n)
        for (let j = 0; j < n; j++) {
          const p = order[from + j]
          const u = userOf[p]
          users[j] = u
          positives[j] = indices[p]
          const seen = sets[u]
          let item
          do {
            item = Math.floor(Math.random() * numItems)
          } while (seen.has(item))
          negatives[j] = item
        }
        yield { users, positives, negatives }
      }
    },
  }
}

/**
 * Careful DNS (dynamic negative sampling): for each positive, M uniform candidates that are not
 * positives of the user (binary search, redraw on a hit), each scored by a dot product of
 * Float32Array embeddings (four accumulators), the highest kept. `pairwise(users, positives)`
 * returns fresh { users, positives, negatives, scores }, as HardNegatives.pairwise with k = 1.
 * `state` is the generator's state (the check snapshots it to replay a call).
 */
export function carefulDns(csr, userEmbeddings, itemEmbeddings, dim, candidates, seed) {
  const { indptr, indices, numItems } = csr
  const state = xoshiroState(seed)
  const scale = numItems / 4294967296
  const ue = userEmbeddings
  const ie = itemEmbeddings
  const M = candidates
  const tail = dim & ~3
  function pairwise(batchUsers, batchPositives) {
    const n = batchUsers.length
    const users = Int32Array.from(batchUsers)
    const positives = Int32Array.from(batchPositives)
    const negatives = new Int32Array(n)
    const scores = new Float32Array(n)
    let s0 = state[0]
    let s1 = state[1]
    let s2 = state[2]
    let s3 = state[3]
    for (let j = 0; j < n; j++) {
      const u = users[j]
      const start = indptr[u]
      const len = indptr[u + 1] - start
      const ub = u * dim
      let best = -Infinity
      let bestItem = -1
      for (let c = 0; c < M; c++) {
        let item
        for (;;) {
          const m = Math.imul(s1, 5)
          const x = Math.imul((m << 7) | (m >>> 25), 9)
          const t = s1 << 9
          s2 ^= s0
          s3 ^= s1
          s1 ^= s2
          s0 ^= s3
          s2 ^= t
          s3 = (s3 << 11) | (s3 >>> 21)
          item = ((x >>> 0) * scale) | 0
          // Branchless binary search (see the header): base ends on the last
          // position of the row holding an id <= item.
          let base = start
          let n = len
          while (n > 1) {
            const half = n >>> 1
            base += half & ((indices[base + half] - item - 1) >> 31)
            n -= half
          }
          if (len === 0 || indices[base] !== item) break
        }
        const ib = item * dim
        let a0 = 0
        let a1 = 0
        let a2 = 0
        let a3 = 0
        let d = 0
        for (; d < tail; d += 4) {
          a0 += ue[ub + d] * ie[ib + d]
          a1 += ue[ub + d + 1] * ie[ib + d + 1]
          a2 += ue[ub + d + 2] * ie[ib + d + 2]
          a3 += ue[ub + d + 3] * ie[ib + d + 3]
        }
        for (; d < dim; d++) a0 += ue[ub + d] * ie[ib + d]
        const score = a0 + a1 + (a2 + a3)
        if (score > best) {
          best = score
          bestItem = item
        }
      }
      negatives[j] = bestItem
      scores[j] = best
    }
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return { users, positives, negatives, scores }
  }
  return { pairwise, state }
}

/**
 * The candidates carefulDns drew in a call that started from `stateBefore`, replayed with the
 * reference generator (xoshiroNext) and the same rule: M per user, uniform by multiply-shift,
 * redrawn while a positive.
 */
export function replayDnsCandidates(csr, stateBefore, users, candidates) {
  const state = Int32Array.from(stateBefore)
  const out = new Int32Array(users.length * candidates)
  const scale = csr.numItems / 4294967296
  for (let j = 0; j < users.length; j++) {
    for (let c = 0; c < candidates; c++) {
      let item
      do item = (xoshiroNext(state) * scale) | 0
      while (positionOf(csr, users[j], item) >= 0)
      out[j * candidates + c] = item
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Output checks (each throws with the contender's label on the first violation)

/** Throws unless `item` is an id in [0, numItems) that is not a positive of `user`. */
function expectNegative(label, csr, user, item, where) {
  if (!Number.isInteger(item) || item < 0 || item >= csr.numItems) {
    throw new Error(`${label}: ${where}: negative ${item} is not an item id in [0, ${csr.numItems})`)
  }
  if (positionOf(csr, user, item) >= 0) throw new Error(`${label}: ${where}: negative ${item} is a positive of user ${user}`)
}

/** Throws unless `user` is a user id; returns it. */
function expectUser(label, csr, user, where) {
  if (!Number.isInteger(user) || user < 0 || user >= csr.numUsers) {
    throw new Error(`${label}: ${where}: user ${user} is not a user id in [0, ${csr.numUsers})`)
  }
  return user
}

/** Marks the positive (user, item) as seen; throws if it is not a training pair or was seen before. */
function markPositive(label, csr, seen, user, item, where) {
  const p = positionOf(csr, user, item)
  if (p < 0) throw new Error(`${label}: ${where}: (user ${user}, item ${item}) is not a training positive`)
  if (seen[p]) throw new Error(`${label}: ${where}: positive (user ${user}, item ${item}) appears twice in the epoch`)
  seen[p] = 1
}

/** Throws unless an array has the expected type and length. */
function expectArray(label, name, array, type, length, where) {
  if (!(array instanceof type)) throw new Error(`${label}: ${where}: ${name} is not a ${type.name}`)
  if (array.length !== length) throw new Error(`${label}: ${where}: ${name} has ${array.length} entries, expected ${length}`)
}

/**
 * Checks one epoch (an iterable of batches) of `shape` 'pairwise' (k = 1) or 'pointwise' (k
 * negatives per positive): the number of batches and their lengths, every positive of the
 * training set exactly once, every row's user and positive a training pair, every negative an
 * item that is not a positive of its user, pointwise labels 1 then k zeros, and a chi-square fit
 * of the negatives against uniform-over-non-positives (`expected`, from expectedUniform).
 * Returns a one-line summary.
 */
export function checkEpoch(label, batches, csr, { batchSize, shape, k, expected }) {
  const seen = new Uint8Array(csr.nnz)
  const negatives = new Int32Array(csr.nnz * k)
  let drawn = 0
  let count = 0
  let positives = 0
  const width = shape === 'pairwise' ? 1 : 1 + k
  for (const batch of batches) {
    const where = `batch ${count}`
    const n = Math.min(batchSize, csr.nnz - positives)
    if (n <= 0) throw new Error(`${label}: more batches than ceil(${csr.nnz} / ${batchSize})`)
    if (shape === 'pairwise') {
      expectArray(label, 'users', batch.users, Int32Array, n, where)
      expectArray(label, 'positives', batch.positives, Int32Array, n, where)
      expectArray(label, 'negatives', batch.negatives, Int32Array, n, where)
      for (let j = 0; j < n; j++) {
        const u = expectUser(label, csr, batch.users[j], `${where} row ${j}`)
        markPositive(label, csr, seen, u, batch.positives[j], `${where} row ${j}`)
        expectNegative(label, csr, u, batch.negatives[j], `${where} row ${j}`)
        negatives[drawn++] = batch.negatives[j]
      }
    } else {
      expectArray(label, 'users', batch.users, Int32Array, n * width, where)
      expectArray(label, 'items', batch.items, Int32Array, n * width, where)
      expectArray(label, 'labels', batch.labels, Float32Array, n * width, where)
      for (let j = 0; j < n; j++) {
        const base = j * width
        const u = expectUser(label, csr, batch.users[base], `${where} row ${base}`)
        if (batch.labels[base] !== 1) throw new Error(`${label}: ${where} row ${base}: a positive's label is ${batch.labels[base]}, not 1`)
        markPositive(label, csr, seen, u, batch.items[base], `${where} row ${base}`)
        for (let r = 1; r < width; r++) {
          const row = base + r
          if (batch.users[row] !== u) throw new Error(`${label}: ${where} row ${row}: user ${batch.users[row]}, not its positive's user ${u}`)
          if (batch.labels[row] !== 0) throw new Error(`${label}: ${where} row ${row}: a negative's label is ${batch.labels[row]}, not 0`)
          expectNegative(label, csr, u, batch.items[row], `${where} row ${row}`)
          negatives[drawn++] = batch.items[row]
        }
      }
    }
    positives += n
    count++
  }
  if (positives !== csr.nnz) throw new Error(`${label}: the epoch has ${positives} positives, the training set ${csr.nnz}`)
  // Every position marked once and `positives` = nnz: every positive appeared exactly once.
  const fit = expectFit(label, negatives, expected, 64)
  return `${count} batches, every one of the ${csr.nnz.toLocaleString('en-US')} positives once, ${drawn.toLocaleString('en-US')} negatives, none a positive; ${fit}`
}

/** The expected frequency of each item among `k` uniform negatives of every training positive. */
export function expectedUniform(csr, k) {
  return uniformExclusionExpected(csr.userOf, k, csr.indptr, csr.indices, csr.numItems)
}

/** Checks k negatives per user in `out` (length, ids, no positive), and their fit if `expected` is given. */
export function checkNegatives(label, csr, users, k, out, expected) {
  expectArray(label, 'out', out, Int32Array, users.length * k, 'output')
  for (let j = 0; j < users.length; j++) {
    for (let r = 0; r < k; r++) expectNegative(label, csr, users[j], out[j * k + r], `output ${j * k + r}`)
  }
  const fit = expected === undefined ? '' : `; ${expectFit(label, out, expected, 64)}`
  return `${out.length.toLocaleString('en-US')} negatives, none a positive${fit}`
}

/** The dot product of a user's and an item's embedding rows (the checks' reference). */
export function dot(userEmbeddings, user, itemEmbeddings, item, dim) {
  let s = 0
  for (let d = 0; d < dim; d++) s += userEmbeddings[user * dim + d] * itemEmbeddings[item * dim + d]
  return s
}

/**
 * Checks a DNS batch against the positives it was given: users and positives echoed, each
 * negative valid, each score its negative's dot product, and, where `candidates` (M per
 * positive) are known, the negative the best of them (within 1e-4: float rounding).
 */
export function checkDnsBatch(label, csr, batch, users, positives, embeddings, candidates, M) {
  const { userEmbeddings, itemEmbeddings, dim } = embeddings
  const n = users.length
  for (const [name, type] of [['users', Int32Array], ['positives', Int32Array], ['negatives', Int32Array], ['scores', Float32Array]]) {
    expectArray(label, name, batch[name], type, n, 'batch')
  }
  for (let j = 0; j < n; j++) {
    const where = `row ${j}`
    if (batch.users[j] !== users[j] || batch.positives[j] !== positives[j]) throw new Error(`${label}: ${where}: not the positive it was given`)
    if (positionOf(csr, users[j], positives[j]) < 0) throw new Error(`${label}: ${where}: (user ${users[j]}, item ${positives[j]}) is not a training positive`)
    const item = batch.negatives[j]
    expectNegative(label, csr, users[j], item, where)
    const score = dot(userEmbeddings, users[j], itemEmbeddings, item, dim)
    if (Math.abs(score - batch.scores[j]) > 1e-4) throw new Error(`${label}: ${where}: score ${batch.scores[j]}, but its negative's dot product is ${score}`)
    if (candidates === undefined) continue
    let best = -Infinity
    let among = false
    for (let c = 0; c < M; c++) {
      const candidate = candidates[j * M + c]
      expectNegative(label, csr, users[j], candidate, `${where} candidate ${c}`)
      best = Math.max(best, dot(userEmbeddings, users[j], itemEmbeddings, candidate, dim))
      among ||= candidate === item
    }
    if (!among) throw new Error(`${label}: ${where}: negative ${item} is not one of its ${M} candidates`)
    if (score < best - 1e-4) throw new Error(`${label}: ${where}: negative ${item} scores ${score}, the best candidate ${best}`)
  }
  return `${n.toLocaleString('en-US')} positives, each negative valid, its score its dot product${candidates === undefined ? '' : `, the best of its ${M} candidates`}`
}

// ---------------------------------------------------------------------------------------------
// Timing

/**
 * pairedRatio (lib/paired.mjs) of `slow` over `fast`, plus each side's time per call measured in
 * the same rounds. pairedRatio repeats one side's call for a round, then the other's; the
 * wrappers here note the clock only when the side being called changes, so each side's calls
 * fall into stretches of one or two consecutive rounds (the order alternates, so a side that
 * ends one round starts the next), and a stretch's time per call is its time over its calls.
 * The two single warm-up calls are left out. Returns { ratio, slow, fast }, the sides as
 * { median, low, high } milliseconds per call over their stretches.
 */
export function pairedRates(slow, fast) {
  const stretches = { slow: [], fast: [] }
  let side = null
  let calls = 0
  let start = 0
  const close = (now) => {
    if (side !== null) stretches[side].push({ ms: now - start, calls })
  }
  const wrap = (name, run) => () => {
    if (side !== name) {
      const now = performance.now()
      close(now)
      side = name
      calls = 0
      start = now
    }
    calls++
    run()
  }
  const ratio = pairedRatio(wrap('slow', slow), wrap('fast', fast))
  close(performance.now())
  const summary = (list) => {
    // The first stretch of each side is its warm-up call.
    const perCall = list.slice(1).map((s) => s.ms / s.calls).sort((a, b) => a - b)
    const at = (q) => perCall[Math.min(perCall.length - 1, Math.floor(q * perCall.length))]
    return { median: at(0.5), low: at(0.25), high: at(0.75), stretches: perCall.length }
  }
  return { ratio, slow: summary(stretches.slow), fast: summary(stretches.fast) }
}

// ---------------------------------------------------------------------------------------------
// Reporting

/** "123 M" style. */
export function formatRate(x) {
  if (!Number.isFinite(x)) return '-'
  if (x >= 1e9) return `${(x / 1e9).toPrecision(3)} G`
  if (x >= 1e6) return `${(x / 1e6).toPrecision(3)} M`
  if (x >= 1e3) return `${(x / 1e3).toPrecision(3)} k`
  return x.toPrecision(3)
}

/**
 * "met" or "missed by X%" for `value` against `target`: at least the target, or with `atMost`,
 * at most it.
 */
export function verdict(value, target, atMost = false) {
  const met = atMost ? value <= target : value >= target
  if (met) return 'met'
  const miss = atMost ? (value - target) / target : (target - value) / target
  return `missed by ${(100 * miss).toFixed(1)}%`
}

const jsonIndex = process.argv.indexOf('--json')
const JSON_FILE = jsonIndex > 0 ? process.argv[jsonIndex + 1] : undefined

/**
 * Appends { title, quick, results, ...extra } to the `--json FILE` file, as harness.mjs's compare
 * does (`results`: one object per contender).
 */
export function recordJson(title, results, extra = {}) {
  if (!JSON_FILE) return
  const all = fs.existsSync(JSON_FILE) ? JSON.parse(fs.readFileSync(JSON_FILE, 'utf8')) : []
  all.push({ title, quick: QUICK, results, ...extra })
  fs.writeFileSync(JSON_FILE, JSON.stringify(all, null, 2))
}
