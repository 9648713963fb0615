/**
 * The JavaScript API's behaviour on valid input: matrices, proposals, batch
 * layouts, the three call forms (fresh / Into / Async), determinism,
 * log-probabilities, epochs and heavy users.
 */
import { describe, expect, it } from 'vitest'
import { Interactions, Sampler } from '../src/index'
import type { PairwiseBatch, PointwiseBatch } from '../src/index'
import { expectExcluded, histogram, keysOf, pairKeys, randomCoo, rowSets } from './helpers/fixtures'

const NUM_USERS = 40
const NUM_ITEMS = 60

/** A random matrix with skewed item popularity, repeats in the input and some empty users. */
function randomMatrix(seed = 7): Interactions {
  // The last 5 items are cold (nobody interacted with them).
  const { users, items } = randomCoo(seed, NUM_USERS - 3, NUM_ITEMS - 5, 600)
  return Interactions.fromCoo(users, items, { numUsers: NUM_USERS, numItems: NUM_ITEMS })
}

/** Every user with at least one positive, each listed `times` times, interleaved. */
function activeUsers(m: Interactions, times = 1): Int32Array {
  const users: number[] = []
  for (let t = 0; t < times; t++) for (let u = 0; u < m.numUsers; u++) if (m.row(u).length > 0) users.push(u)
  return Int32Array.from(users)
}

/** One positive per active user (its first), for pairwise / pointwise batches. */
function somePositives(m: Interactions): { users: Int32Array; items: Int32Array } {
  const users: number[] = []
  const items: number[] = []
  for (let u = 0; u < m.numUsers; u++) {
    const row = m.row(u)
    for (let j = 0; j < row.length; j += 3) {
      users.push(u)
      items.push(row[j]!)
    }
  }
  return { users: Int32Array.from(users), items: Int32Array.from(items) }
}

describe('Interactions.fromCoo', () => {
  it('infers sizes from the largest ids, or takes them from the options', () => {
    const users = Int32Array.of(0, 0, 1, 3)
    const items = Int32Array.of(3, 1, 2, 0)
    const m = Interactions.fromCoo(users, items)
    expect(m.numUsers).toBe(4)
    expect(m.numItems).toBe(4)
    expect(m.nnz).toBe(4)

    const wide = Interactions.fromCoo(users, items, { numUsers: 6, numItems: 10 })
    expect(wide.numUsers).toBe(6)
    expect(wide.numItems).toBe(10)
    expect(wide.nnz).toBe(4)
    expect(wide.row(5)).toEqual(new Int32Array(0))
    expect(wide.popularity()).toHaveLength(10)
  })

  it('an empty input gives an empty matrix', () => {
    const m = Interactions.fromCoo(new Int32Array(0), new Int32Array(0))
    expect([m.numUsers, m.numItems, m.nnz]).toEqual([0, 0, 0])
    expect(m.indptr()).toEqual(Float64Array.of(0))
    expect(m.indices()).toEqual(new Int32Array(0))
  })

  it('sorts each row and drops repeats', () => {
    const m = Interactions.fromCoo(Int32Array.of(1, 0, 1, 1, 0, 1, 2), Int32Array.of(5, 4, 1, 5, 4, 3, 0))
    expect(m.nnz).toBe(5)
    expect(m.row(0)).toEqual(Int32Array.of(4))
    expect(m.row(1)).toEqual(Int32Array.of(1, 3, 5))
    expect(m.row(2)).toEqual(Int32Array.of(0))
    expect(m.row(1)).toBeInstanceOf(Int32Array)
    expect(m.indptr()).toEqual(Float64Array.of(0, 1, 4, 5))
    expect(m.indices()).toEqual(Int32Array.of(4, 1, 3, 5, 0))
  })

  it('row() returns a fresh copy', () => {
    const m = Interactions.fromCoo(Int32Array.of(0, 0), Int32Array.of(2, 1))
    const row = m.row(0)
    row[0] = 99
    expect(m.row(0)).toEqual(Int32Array.of(1, 2))
  })

  it('counts popularity as the number of distinct users per item', () => {
    // Item 2: users 0, 1, 3 (user 0 twice); item 0: user 1; items 1 and 4: nobody.
    const m = Interactions.fromCoo(Int32Array.of(0, 0, 1, 1, 3, 3), Int32Array.of(2, 2, 2, 0, 2, 3), {
      numItems: 5,
    })
    expect(m.popularity()).toEqual(Int32Array.of(1, 0, 3, 1, 0))
  })

  it('matches a straightforward reference on random data', () => {
    const { users, items } = randomCoo(3, 25, 30, 400)
    const m = Interactions.fromCoo(users, items, { numUsers: 25, numItems: 30 })
    const sets = Array.from({ length: 25 }, () => new Set<number>())
    users.forEach((u, j) => sets[u]!.add(items[j]!))
    const popularity = new Int32Array(30)
    let nnz = 0
    for (let u = 0; u < 25; u++) {
      const expected = Int32Array.from([...sets[u]!].sort((a, b) => a - b))
      expect(m.row(u)).toEqual(expected)
      for (const i of expected) popularity[i]!++
      nnz += expected.length
    }
    expect(m.nnz).toBe(nnz)
    expect(m.popularity()).toEqual(popularity)
  })
})

describe('Interactions.fromCsr', () => {
  const reference = randomMatrix(11)

  /** CSR arrays for `reference` with each row shuffled and some repeats added. */
  function messyCsr(): { indptr: number[]; indices: Int32Array } {
    const indptr = [0]
    const indices: number[] = []
    for (let u = 0; u < reference.numUsers; u++) {
      const row = [...reference.row(u)].reverse()
      if (row.length > 1) row.push(row[0]!, row[row.length - 1]!)
      indices.push(...row)
      indptr.push(indices.length)
    }
    return { indptr, indices: Int32Array.from(indices) }
  }

  function expectSame(m: Interactions): void {
    expect(m.numUsers).toBe(reference.numUsers)
    expect(m.numItems).toBe(reference.numItems)
    expect(m.nnz).toBe(reference.nnz)
    expect(m.indptr()).toEqual(reference.indptr())
    expect(m.indices()).toEqual(reference.indices())
    expect(m.popularity()).toEqual(reference.popularity())
    for (let u = 0; u < m.numUsers; u++) expect(m.row(u)).toEqual(reference.row(u))
  }

  it('agrees with fromCoo for an Int32Array indptr (rows in any order, repeats dropped)', () => {
    const { indptr, indices } = messyCsr()
    expectSame(Interactions.fromCsr(Int32Array.from(indptr), indices, { numItems: NUM_ITEMS }))
  })

  it('agrees with fromCoo for a Float64Array indptr', () => {
    const { indptr, indices } = messyCsr()
    expectSame(Interactions.fromCsr(Float64Array.from(indptr), indices, { numItems: NUM_ITEMS }))
  })

  it('agrees with fromCoo for a BigInt64Array indptr', () => {
    const { indptr, indices } = messyCsr()
    expectSame(Interactions.fromCsr(BigInt64Array.from(indptr, (p) => BigInt(p)), indices, { numItems: NUM_ITEMS }))
  })

  it('round-trips its own indptr / indices', () => {
    expectSame(Interactions.fromCsr(reference.indptr(), reference.indices(), { numItems: reference.numItems }))
  })

  it('infers numItems from the largest id, and numUsers from indptr.length - 1', () => {
    const m = Interactions.fromCsr(Int32Array.of(0, 2, 2, 3), Int32Array.of(4, 1, 1))
    expect(m.numUsers).toBe(3)
    expect(m.numItems).toBe(5)
    expect(m.nnz).toBe(3)
    expect(m.row(1)).toEqual(new Int32Array(0))
    expect(m.row(0)).toEqual(Int32Array.of(1, 4))
  })

  it('accepts a single offset (no users)', () => {
    const m = Interactions.fromCsr(Float64Array.of(0), new Int32Array(0), { numItems: 3 })
    expect([m.numUsers, m.numItems, m.nnz]).toEqual([0, 3, 0])
  })
})

describe('Sampler construction', () => {
  const m = randomMatrix()

  it('reports its proposal, seed and interactions', () => {
    expect(new Sampler(m).proposal).toBe('uniform')
    expect(new Sampler(m, { proposal: 'popularity' }).proposal).toBe('popularity')
    expect(new Sampler(m, { weights: new Float64Array(NUM_ITEMS).fill(1) }).proposal).toBe('weights')
    const s = new Sampler(m, { seed: 42 })
    expect(s.seed).toBe(42n)
    expect(s.interactions).toBe(m)
    expect(s.calls).toBe(0)
    expect(new Sampler(m, { seed: 2n ** 64n - 1n }).seed).toBe(2n ** 64n - 1n)
  })

  it('picks a random seed by default, which reproduces the stream when passed back', () => {
    const a = new Sampler(m)
    const b = new Sampler(m)
    expect(typeof a.seed).toBe('bigint')
    expect(a.seed).not.toBe(b.seed)
    const users = activeUsers(m)
    const replay = new Sampler(m, { seed: a.seed })
    expect(replay.negatives(users, 3)).toEqual(a.negatives(users, 3))
  })

  it('a number seed and the equal bigint seed give the same stream', () => {
    const users = activeUsers(m)
    expect(new Sampler(m, { seed: 12345 }).negatives(users, 4)).toEqual(
      new Sampler(m, { seed: 12345n }).negatives(users, 4),
    )
  })
})

describe('proposals', () => {
  const m = randomMatrix()
  const rows = rowSets(m)
  const users = activeUsers(m, 5)

  it("'uniform' never returns a positive and reaches every non-positive", () => {
    const s = new Sampler(m, { seed: 1 })
    const u = Int32Array.of(0)
    const negatives = s.negatives(u, 5000)
    expectExcluded(m, u, negatives, 5000, rows)
    const seen = new Set(negatives)
    for (let i = 0; i < NUM_ITEMS; i++) expect(seen.has(i)).toBe(!rows[0]!.has(i))
    expectExcluded(m, users, s.negatives(users, 7), 7, rows)
  })

  it("'uniform' log-probabilities are -log(numItems)", () => {
    const s = new Sampler(m, { seed: 1 })
    const all = Int32Array.from({ length: NUM_ITEMS }, (_, i) => i)
    const lp = s.logProbabilities(all)
    expect(lp).toBeInstanceOf(Float32Array)
    for (const v of lp) expect(v).toBeCloseTo(-Math.log(NUM_ITEMS), 6)
  })

  /** Expected popularity proposal: count^alpha / sum. */
  function popularityProbabilities(alpha: number): number[] {
    const counts = [...m.popularity()]
    const weights = counts.map((c) => (c === 0 ? 0 : c ** alpha))
    const total = weights.reduce((a, b) => a + b, 0)
    return weights.map((w) => w / total)
  }

  function expectLogProbs(s: Sampler, probabilities: number[]): void {
    const all = Int32Array.from({ length: NUM_ITEMS }, (_, i) => i)
    const lp = s.logProbabilities(all)
    probabilities.forEach((p, i) => {
      if (p === 0) expect(lp[i]).toBe(-Infinity)
      else expect(Math.abs(lp[i]! - Math.log(p))).toBeLessThanOrEqual(1e-6 * Math.abs(Math.log(p)) + 1e-6)
    })
  }

  it("'popularity' uses alpha = 0.75 by default", () => {
    const s = new Sampler(m, { proposal: 'popularity', seed: 2 })
    expectLogProbs(s, popularityProbabilities(0.75))
    const explicit = new Sampler(m, { proposal: 'popularity', alpha: 0.75, seed: 2 })
    expect(explicit.negatives(users, 3)).toEqual(s.negatives(users, 3))
  })

  it("'popularity' takes a custom alpha (0, 0.5, 1)", () => {
    for (const alpha of [0, 0.5, 1]) {
      const s = new Sampler(m, { proposal: 'popularity', alpha, seed: 3 })
      expectLogProbs(s, popularityProbabilities(alpha))
      expectExcluded(m, users, s.negatives(users, 5), 5, rows)
    }
  })

  it("'popularity' never proposes an item nobody interacted with", () => {
    const counts = m.popularity()
    expect(counts.some((c) => c === 0)).toBe(true) // the fixture has cold items
    const s = new Sampler(m, { proposal: 'popularity', seed: 4 })
    const negatives = s.negatives(users, 50)
    expectExcluded(m, users, negatives, 50, rows)
    for (const n of negatives) expect(counts[n]).toBeGreaterThan(0)
  })

  it("'popularity' draws follow count^alpha for a user with no positives (loose check, fixed seed)", () => {
    const s = new Sampler(m, { proposal: 'popularity', alpha: 1, seed: 5 })
    const empty = NUM_USERS - 1
    expect(m.row(empty)).toHaveLength(0)
    const draws = 200_000
    const h = histogram(s.negatives(Int32Array.of(empty), draws), NUM_ITEMS)
    popularityProbabilities(1).forEach((p, i) => {
      if (p === 0) expect(h[i]).toBe(0)
      else expect(Math.abs(h[i]! / draws - p)).toBeLessThan(5 * Math.sqrt(p / draws) + 1e-4)
    })
  })

  const weights64 = Float64Array.from({ length: NUM_ITEMS }, (_, i) => (i % 5 === 0 ? 0 : (i % 7) + 0.5))

  it('weights: zero-weight items are never drawn', () => {
    const s = new Sampler(m, { weights: weights64, seed: 6 })
    const negatives = s.negatives(users, 100)
    expectExcluded(m, users, negatives, 100, rows)
    for (const n of negatives) expect(weights64[n]).toBeGreaterThan(0)
  })

  it('weights: a Float32Array and the equal Float64Array give the same draws', () => {
    const weights32 = Float32Array.from(weights64)
    expect(Float64Array.from(weights32)).toEqual(weights64) // exactly representable
    const a = new Sampler(m, { weights: weights32, seed: 7 })
    const b = new Sampler(m, { proposal: 'weights', weights: weights64, seed: 7 })
    expect(a.proposal).toBe('weights')
    expect(a.negatives(users, 9)).toEqual(b.negatives(users, 9))
    expect(a.logProbabilities(users)).toEqual(b.logProbabilities(users))
  })

  it('weights: log-probabilities are log(w_i / sum) within float32 precision', () => {
    const total = weights64.reduce((a, b) => a + b, 0)
    const s = new Sampler(m, { weights: weights64, seed: 8 })
    expectLogProbs(
      s,
      [...weights64].map((w) => w / total),
    )
  })

  it('weights: draws follow the weights for a user with no positives (loose check, fixed seed)', () => {
    const total = weights64.reduce((a, b) => a + b, 0)
    const s = new Sampler(m, { weights: weights64, seed: 9 })
    const draws = 200_000
    const h = histogram(s.negatives(Int32Array.of(NUM_USERS - 1), draws), NUM_ITEMS)
    weights64.forEach((w, i) => {
      const p = w / total
      expect(Math.abs(h[i]! / draws - p)).toBeLessThan(5 * Math.sqrt(p / draws) + 1e-4)
    })
  })

  it('logProbabilities() of repeated / unordered ids', () => {
    const s = new Sampler(m, { proposal: 'popularity', seed: 1 })
    const all = s.logProbabilities(Int32Array.from({ length: NUM_ITEMS }, (_, i) => i))
    const ids = Int32Array.of(5, 0, 5, 59, 1)
    expect(s.logProbabilities(ids)).toEqual(Float32Array.from(ids, (i) => all[i]!))
    expect(s.logProbabilities(new Int32Array(0))).toEqual(new Float32Array(0))
    const out = new Float32Array(ids.length)
    expect(s.logProbabilitiesInto(ids, out)).toBe(out)
    expect(out).toEqual(s.logProbabilities(ids))
  })
})

describe('batch layouts', () => {
  const m = randomMatrix()
  const rows = rowSets(m)

  it('negatives: users.length * k ids, grouped per user', () => {
    // Users 0 and 1 have disjoint sets of possible negatives, so a group in
    // the wrong place would show.
    const split = Interactions.fromCoo(Int32Array.of(0, 0, 0, 1, 1, 1, 1), Int32Array.of(0, 1, 2, 3, 4, 5, 6), {
      numItems: 7,
    })
    const s = new Sampler(split, { seed: 1 })
    const users = Int32Array.of(0, 1, 1, 0, 1)
    const k = 6
    const out = s.negatives(users, k)
    expect(out).toBeInstanceOf(Int32Array)
    expect(out).toHaveLength(users.length * k)
    users.forEach((u, j) => {
      const group = [...out.subarray(j * k, (j + 1) * k)]
      const allowed = u === 0 ? [3, 4, 5, 6] : [0, 1, 2]
      for (const n of group) expect(allowed).toContain(n)
    })
    // On random data: every negative excluded for its own user.
    const many = activeUsers(m, 3)
    expectExcluded(m, many, new Sampler(m, { seed: 2 }).negatives(many, 4), 4, rows)
  })

  it('negatives: an empty users array gives an empty output', () => {
    const s = new Sampler(m, { seed: 1 })
    expect(s.negatives(new Int32Array(0), 3)).toEqual(new Int32Array(0))
  })

  it('pairwise: users and positives repeated k times, the k rows of one positive together', () => {
    const s = new Sampler(m, { seed: 3 })
    const { users, items } = somePositives(m)
    const k = 3
    const batch = s.pairwise(users, items, k)
    expect(Object.keys(batch).sort()).toEqual(['negatives', 'positives', 'users'])
    for (const key of ['users', 'positives', 'negatives'] as const) {
      expect(batch[key]).toBeInstanceOf(Int32Array)
      expect(batch[key]).toHaveLength(users.length * k)
    }
    for (let j = 0; j < users.length; j++) {
      for (let i = 0; i < k; i++) {
        expect(batch.users[j * k + i]).toBe(users[j])
        expect(batch.positives[j * k + i]).toBe(items[j])
      }
    }
    expectExcluded(m, users, batch.negatives, k, rows)
  })

  it('pairwise: the negatives are those negatives() gives for the same call number', () => {
    const { users, items } = somePositives(m)
    const a = new Sampler(m, { seed: 4 })
    const b = new Sampler(m, { seed: 4 })
    expect(a.pairwise(users, items, 2).negatives).toEqual(b.negatives(users, 2))
  })

  it('pointwise: 1 + k rows per positive, label 1 then k zeros', () => {
    const s = new Sampler(m, { seed: 5 })
    const { users, items } = somePositives(m)
    const k = 4
    const batch = s.pointwise(users, items, k)
    expect(Object.keys(batch).sort()).toEqual(['items', 'labels', 'users'])
    const rowsPer = k + 1
    expect(batch.users).toHaveLength(users.length * rowsPer)
    expect(batch.items).toHaveLength(users.length * rowsPer)
    expect(batch.labels).toBeInstanceOf(Float32Array)
    expect(batch.labels).toHaveLength(users.length * rowsPer)
    const negatives: number[] = []
    for (let j = 0; j < users.length; j++) {
      const row = j * rowsPer
      expect(batch.items[row]).toBe(items[j])
      expect(batch.labels[row]).toBe(1)
      for (let i = 0; i < rowsPer; i++) expect(batch.users[row + i]).toBe(users[j])
      for (let i = 1; i < rowsPer; i++) {
        expect(batch.labels[row + i]).toBe(0)
        negatives.push(batch.items[row + i]!)
      }
    }
    expectExcluded(m, users, negatives, k, rows)
    // The same negatives as negatives() for the same call number.
    expect(Int32Array.from(negatives)).toEqual(new Sampler(m, { seed: 5 }).negatives(users, k))
  })

  it('logProbs option: pairwise negativeLogProbs and pointwise logProbs', () => {
    const s = new Sampler(m, { proposal: 'popularity', seed: 6 })
    const { users, items } = somePositives(m)
    const pair = s.pairwise(users, items, 2, { logProbs: true })
    expect(pair.negativeLogProbs).toBeInstanceOf(Float32Array)
    expect(pair.negativeLogProbs).toEqual(s.logProbabilities(pair.negatives))
    const point = s.pointwise(users, items, 2, { logProbs: true })
    expect(point.logProbs).toEqual(s.logProbabilities(point.items))
    expect(s.pairwise(users, items, 2).negativeLogProbs).toBeUndefined()
    expect(s.pointwise(users, items, 2, { logProbs: false }).logProbs).toBeUndefined()
  })

  it('logProbs option: uniform values are -log(numItems)', () => {
    const s = new Sampler(m, { seed: 6 })
    const { users, items } = somePositives(m)
    const pair = s.pairwise(users, items, 2, { logProbs: true })
    for (const v of pair.negativeLogProbs!) expect(v).toBeCloseTo(-Math.log(NUM_ITEMS), 6)
  })
})

describe('Into forms', () => {
  const m = randomMatrix()
  const { users, items } = somePositives(m)
  const k = 3
  const n = users.length * k
  const p = users.length * (k + 1)

  it('negativesInto fills and returns the caller buffer, as negatives() would', () => {
    const fresh = new Sampler(m, { seed: 10 })
    const into = new Sampler(m, { seed: 10 })
    const out = new Int32Array(n).fill(-7)
    for (let call = 0; call < 3; call++) {
      const expected = fresh.negatives(users, k)
      expect(into.negativesInto(users, k, out)).toBe(out)
      expect(out).toEqual(expected)
    }
    expect(into.calls).toBe(fresh.calls)
  })

  it('negativesInto writes into a subarray view without touching its neighbours', () => {
    const s = new Sampler(m, { seed: 11 })
    const buffer = new Int32Array(n + 4).fill(-7)
    const view = buffer.subarray(2, 2 + n)
    s.negativesInto(users, k, view)
    expect([buffer[0], buffer[1], buffer[n + 2], buffer[n + 3]]).toEqual([-7, -7, -7, -7])
    expect(view).toEqual(new Sampler(m, { seed: 11 }).negatives(users, k))
  })

  it('pairwiseInto fills and returns the caller buffers, as pairwise() would', () => {
    const fresh = new Sampler(m, { seed: 12 })
    const into = new Sampler(m, { seed: 12 })
    const out: PairwiseBatch = { users: new Int32Array(n), positives: new Int32Array(n), negatives: new Int32Array(n) }
    for (let call = 0; call < 3; call++) {
      const expected = fresh.pairwise(users, items, k)
      const result = into.pairwiseInto(users, items, k, out)
      expect(result).toBe(out)
      expect(result.users).toBe(out.users)
      expect(out.users).toEqual(expected.users)
      expect(out.positives).toEqual(expected.positives)
      expect(out.negatives).toEqual(expected.negatives)
    }
  })

  it('pairwiseInto fills out.negativeLogProbs when given', () => {
    const fresh = new Sampler(m, { proposal: 'popularity', seed: 13 })
    const into = new Sampler(m, { proposal: 'popularity', seed: 13 })
    const out: PairwiseBatch = {
      users: new Int32Array(n),
      positives: new Int32Array(n),
      negatives: new Int32Array(n),
      negativeLogProbs: new Float32Array(n),
    }
    const expected = fresh.pairwise(users, items, k, { logProbs: true })
    into.pairwiseInto(users, items, k, out)
    expect(out.negatives).toEqual(expected.negatives)
    expect(out.negativeLogProbs).toEqual(expected.negativeLogProbs)
  })

  it('pointwiseInto fills and returns the caller buffers, as pointwise() would', () => {
    const fresh = new Sampler(m, { seed: 14 })
    const into = new Sampler(m, { seed: 14 })
    const out: PointwiseBatch = {
      users: new Int32Array(p),
      items: new Int32Array(p),
      labels: new Float32Array(p).fill(0.5),
      logProbs: new Float32Array(p),
    }
    for (let call = 0; call < 3; call++) {
      const expected = fresh.pointwise(users, items, k, { logProbs: true })
      expect(into.pointwiseInto(users, items, k, out)).toBe(out)
      expect(out.users).toEqual(expected.users)
      expect(out.items).toEqual(expected.items)
      expect(out.labels).toEqual(expected.labels)
      expect(out.logProbs).toEqual(expected.logProbs)
    }
  })

  it('mixed fresh / Into call sequences stay in step', () => {
    const fresh = new Sampler(m, { seed: 15 })
    const into = new Sampler(m, { seed: 15 })
    const negOut = new Int32Array(n)
    const pairOut: PairwiseBatch = { users: new Int32Array(n), positives: new Int32Array(n), negatives: new Int32Array(n) }
    const pointOut: PointwiseBatch = { users: new Int32Array(p), items: new Int32Array(p), labels: new Float32Array(p) }
    expect(into.pointwiseInto(users, items, k, pointOut).items).toEqual(fresh.pointwise(users, items, k).items)
    expect(into.negativesInto(users, k, negOut)).toEqual(fresh.negatives(users, k))
    expect(into.pairwiseInto(users, items, k, pairOut).negatives).toEqual(fresh.pairwise(users, items, k).negatives)
  })
})

describe('Async forms', () => {
  const m = randomMatrix()
  const rows = rowSets(m)
  const { users, items } = somePositives(m)

  it('give the same output as the sync forms for the same seed and call sequence', async () => {
    const sync = new Sampler(m, { proposal: 'popularity', seed: 20 })
    const async = new Sampler(m, { proposal: 'popularity', seed: 20 })
    const expected = [
      sync.negatives(users, 3),
      sync.pairwise(users, items, 2, { logProbs: true }),
      sync.pointwise(users, items, 2, { logProbs: true }),
      sync.negatives(users, 1),
    ]
    const negatives = await async.negativesAsync(users, 3)
    const pair = await async.pairwiseAsync(users, items, 2, { logProbs: true })
    const point = await async.pointwiseAsync(users, items, 2, { logProbs: true })
    const last = await async.negativesAsync(users, 1)
    expect(negatives).toBeInstanceOf(Int32Array)
    expect(negatives).toEqual(expected[0])
    expect(pair).toEqual(expected[1])
    expect(point).toEqual(expected[2])
    expect(last).toEqual(expected[3])
    expect(async.calls).toBe(sync.calls)
  })

  it('take their call number when called, not when they finish', async () => {
    const sync = new Sampler(m, { seed: 21 })
    const async = new Sampler(m, { seed: 21 })
    const first = async.negativesAsync(users, 2)
    const second = async.pairwiseAsync(users, items, 2)
    const third = async.negatives(users, 2) // sync call between two pending async ones
    expect(async.calls).toBe(3)
    expect(await first).toEqual(sync.negatives(users, 2))
    expect((await second).negatives).toEqual(sync.pairwise(users, items, 2).negatives)
    expect(third).toEqual(sync.negatives(users, 2))
  })

  it('copy their inputs when called', async () => {
    const ref = new Sampler(m, { seed: 22 })
    const s = new Sampler(m, { seed: 22 })
    const u = users.slice()
    const i = items.slice()
    const pending = s.pairwiseAsync(u, i, 2)
    const expected = ref.pairwise(users, items, 2)
    u.fill(NUM_USERS - 1)
    i.fill(0)
    expect(await pending).toEqual(expected)
  })

  it('50 concurrent calls resolve to correct, independent results', async () => {
    const sync = new Sampler(m, { seed: 23 })
    const async = new Sampler(m, { seed: 23 })
    const pending: Promise<Int32Array | PairwiseBatch | PointwiseBatch>[] = []
    const expected: (Int32Array | PairwiseBatch | PointwiseBatch)[] = []
    for (let j = 0; j < 50; j++) {
      const k = 1 + (j % 4)
      if (j % 3 === 0) {
        pending.push(async.negativesAsync(users, k))
        expected.push(sync.negatives(users, k))
      } else if (j % 3 === 1) {
        pending.push(async.pairwiseAsync(users, items, k))
        expected.push(sync.pairwise(users, items, k))
      } else {
        pending.push(async.pointwiseAsync(users, items, k))
        expected.push(sync.pointwise(users, items, k))
      }
    }
    const results = await Promise.all(pending)
    expect(results).toEqual(expected)
    // Independent: no two results of the same kind and k are equal.
    const negatives = results.filter((r): r is Int32Array => r instanceof Int32Array)
    for (let a = 0; a < negatives.length; a++) {
      for (let b = a + 1; b < negatives.length; b++) {
        if (negatives[a]!.length === negatives[b]!.length) expect(negatives[a]).not.toEqual(negatives[b])
      }
    }
    results.forEach((r, j) => {
      const k = 1 + (j % 4)
      if (r instanceof Int32Array) expectExcluded(m, users, r, k, rows)
      else if ('negatives' in r) expectExcluded(m, users, r.negatives, k, rows)
    })
  })
})

describe('determinism', () => {
  const m = randomMatrix()
  const users = activeUsers(m, 2)

  it('the same seed gives identical sequences', () => {
    const a = new Sampler(m, { proposal: 'popularity', seed: 99 })
    const b = new Sampler(m, { proposal: 'popularity', seed: 99 })
    for (let call = 0; call < 5; call++) expect(a.negatives(users, 3)).toEqual(b.negatives(users, 3))
  })

  it('successive calls differ', () => {
    const s = new Sampler(m, { seed: 99 })
    expect(s.negatives(users, 3)).not.toEqual(s.negatives(users, 3))
  })

  it('different seeds give different sequences', () => {
    const a = new Sampler(m, { seed: 1 }).negatives(users, 3)
    const b = new Sampler(m, { seed: 2 }).negatives(users, 3)
    const c = new Sampler(m, { seed: 2n ** 63n }).negatives(users, 3)
    expect(a).not.toEqual(b)
    expect(a).not.toEqual(c)
    expect(b).not.toEqual(c)
  })

  it('calls counts the calls that drew randomness', () => {
    const s = new Sampler(m, { seed: 1 })
    const { users: u, items: i } = somePositives(m)
    s.negatives(u, 1)
    s.pairwise(u, i, 1)
    s.pointwise(u, i, 1)
    s.logProbabilities(i)
    s.hasNegative(0)
    expect(s.calls).toBe(3)
    s.epoch({ batchSize: 10 })
    expect(s.calls).toBe(4) // the shuffle, at call time
  })
})

describe('epoch', () => {
  const m = randomMatrix()
  const rows = rowSets(m)
  const keys = pairKeys(m)

  it('covers every training positive exactly once, in batchesPerEpoch(batchSize) batches', () => {
    const s = new Sampler(m, { seed: 30 })
    const batchSize = 64
    const k = 2
    const users: Int32Array[] = []
    const positives: Int32Array[] = []
    let count = 0
    for (const batch of s.epoch({ batchSize, negatives: k })) {
      count++
      expect(batch.users.length % k).toBe(0)
      const rowsIn = batch.users.length / k
      const u = Int32Array.from({ length: rowsIn }, (_, j) => batch.users[j * k]!)
      const p = Int32Array.from({ length: rowsIn }, (_, j) => batch.positives[j * k]!)
      expect(rowsIn).toBeLessThanOrEqual(batchSize)
      expectExcluded(m, u, batch.negatives, k, rows)
      users.push(u)
      positives.push(p)
    }
    expect(count).toBe(s.batchesPerEpoch(batchSize))
    expect(count).toBe(Math.ceil(m.nnz / batchSize))
    const allUsers = Int32Array.from(users.flatMap((a) => [...a]))
    const allItems = Int32Array.from(positives.flatMap((a) => [...a]))
    expect(allUsers).toHaveLength(m.nnz)
    expect(keysOf(allUsers, allItems)).toEqual(keys)
  })

  it('negatives defaults to 1; the last batch is short unless dropLast', () => {
    const s = new Sampler(m, { seed: 31 })
    const batchSize = 97
    expect(m.nnz % batchSize).not.toBe(0)
    const sizes = [...s.epoch({ batchSize })].map((b) => b.negatives.length)
    expect(sizes).toHaveLength(Math.ceil(m.nnz / batchSize))
    expect(sizes.slice(0, -1).every((size) => size === batchSize)).toBe(true)
    expect(sizes[sizes.length - 1]).toBe(m.nnz % batchSize)

    const dropped = [...s.epoch({ batchSize, dropLast: true })]
    expect(dropped).toHaveLength(s.batchesPerEpoch(batchSize, true))
    expect(dropped).toHaveLength(Math.floor(m.nnz / batchSize))
    for (const batch of dropped) expect(batch.users).toHaveLength(batchSize)
    const covered = keysOf(
      Int32Array.from(dropped.flatMap((b) => [...b.users])),
      Int32Array.from(dropped.flatMap((b) => [...b.positives])),
    )
    expect(covered).toHaveLength(Math.floor(m.nnz / batchSize) * batchSize)
    expect(new Set(covered).size).toBe(covered.length)
    for (const key of covered) expect(keys).toContain(key)
  })

  it('batchesPerEpoch when batchSize divides nnz or exceeds it', () => {
    const s = new Sampler(m, { seed: 32 })
    expect(s.batchesPerEpoch(m.nnz)).toBe(1)
    expect(s.batchesPerEpoch(m.nnz, true)).toBe(1)
    expect(s.batchesPerEpoch(m.nnz + 1)).toBe(1)
    expect(s.batchesPerEpoch(m.nnz + 1, true)).toBe(0)
    expect([...s.epoch({ batchSize: m.nnz + 1, dropLast: true })]).toHaveLength(0)
    expect(s.batchesPerEpoch(1)).toBe(m.nnz)
  })

  it("shape 'pointwise' yields pointwise batches covering every positive once", () => {
    const s = new Sampler(m, { seed: 33 })
    const k = 3
    const users: number[] = []
    const items: number[] = []
    let count = 0
    for (const batch of s.epoch({ batchSize: 50, negatives: k, shape: 'pointwise', logProbs: true })) {
      count++
      expect(batch.items.length % (k + 1)).toBe(0)
      expect(batch.logProbs).toEqual(s.logProbabilities(batch.items))
      const negatives: number[] = []
      const batchUsers: number[] = []
      for (let row = 0; row < batch.items.length; row += k + 1) {
        expect(batch.labels[row]).toBe(1)
        users.push(batch.users[row]!)
        items.push(batch.items[row]!)
        batchUsers.push(batch.users[row]!)
        for (let i = 1; i <= k; i++) {
          expect(batch.labels[row + i]).toBe(0)
          expect(batch.users[row + i]).toBe(batch.users[row])
          negatives.push(batch.items[row + i]!)
        }
      }
      expectExcluded(m, batchUsers, negatives, k, rows)
    }
    expect(count).toBe(s.batchesPerEpoch(50))
    expect(keysOf(Int32Array.from(users), Int32Array.from(items))).toEqual(keys)
  })

  it('logProbs in a pairwise epoch', () => {
    const s = new Sampler(m, { proposal: 'popularity', seed: 34 })
    for (const batch of s.epoch({ batchSize: 200, negatives: 2, logProbs: true })) {
      expect(batch.negativeLogProbs).toEqual(s.logProbabilities(batch.negatives))
    }
  })

  it('two epochs give different orders; the same seed gives the same epoch', () => {
    const order = (s: Sampler): string[] =>
      [...s.epoch({ batchSize: m.nnz })].flatMap((b) => [...b.users].map((u, j) => `${u}:${b.positives[j]}`))
    const s = new Sampler(m, { seed: 35 })
    const first = order(s)
    const second = order(s)
    expect(first).not.toEqual(second)
    expect([...first].sort()).toEqual([...second].sort())
    expect(order(new Sampler(m, { seed: 35 }))).toEqual(first)
  })

  it('takes one call number, and calls between its batches do not change them', () => {
    const plain = new Sampler(m, { seed: 36 })
    const expected = [...plain.epoch({ batchSize: 100, negatives: 2 })]
    expect(plain.calls).toBe(1)
    const busy = new Sampler(m, { seed: 36 })
    const got = []
    for (const batch of busy.epoch({ batchSize: 100, negatives: 2 })) {
      busy.negatives(Int32Array.of(0, 1), 3)
      got.push(batch)
    }
    expect(busy.calls).toBe(1 + got.length)
    expect(got.map((b) => [...b.negatives])).toEqual(expected.map((b) => [...b.negatives]))
    expect(got.map((b) => [...b.users])).toEqual(expected.map((b) => [...b.users]))
  })
})

describe('heavy users and users without negatives', () => {
  // numItems 10: user 0 holds 7 items (>= half the uniform mass), user 1 a
  // single item, user 2 every item, user 3 nothing.
  const m = Interactions.fromCoo(
    Int32Array.of(0, 0, 0, 0, 0, 0, 0, 1, ...Array.from({ length: 10 }, () => 2)),
    Int32Array.of(0, 1, 2, 4, 5, 7, 8, 3, ...Array.from({ length: 10 }, (_, i) => i)),
    { numUsers: 4, numItems: 10 },
  )

  it('a user holding >= half the mass uses the complement and still only gets non-positives', () => {
    const s = new Sampler(m, { seed: 40 })
    expect(s.usesComplement(0)).toBe(true)
    expect(s.usesComplement(1)).toBe(false)
    expect(s.usesComplement(3)).toBe(false)
    const draws = 30_000
    const negatives = s.negatives(Int32Array.of(0), draws)
    expectExcluded(m, Int32Array.of(0), negatives, draws)
    // The complement draws are uniform over the non-positives {3, 6, 9} (loose check).
    const h = histogram(negatives, 10)
    for (const i of [3, 6, 9]) expect(Math.abs(h[i]! / draws - 1 / 3)).toBeLessThan(0.02)
  })

  it('exactly half of the mass counts as heavy', () => {
    const half = Interactions.fromCoo(Int32Array.of(0, 0, 1), Int32Array.of(0, 1, 2), { numItems: 4 })
    const s = new Sampler(half, { seed: 1 })
    expect(s.usesComplement(0)).toBe(true)
    expect(s.usesComplement(1)).toBe(false)
  })

  it('heaviness is measured in proposal mass (popularity / weights)', () => {
    // Under popularity user 1 holds only item 3 (count 1) and is light; with
    // weights concentrated on item 3 it holds >= half the mass and is heavy.
    const weights = Float64Array.of(1, 1, 1, 20, 1, 1, 1, 1, 1, 1)
    const s = new Sampler(m, { weights, seed: 41 })
    expect(s.usesComplement(1)).toBe(true)
    const negatives = s.negatives(Int32Array.of(1, 0, 1), 500)
    expectExcluded(m, Int32Array.of(1, 0, 1), negatives, 500)
    const pop = new Sampler(m, { proposal: 'popularity', seed: 42 })
    expect(pop.usesComplement(1)).toBe(false)
    // User 0 holds 7 of the 8 items with count 2: far more than half of the count^0.75 mass.
    expect(pop.usesComplement(0)).toBe(true)
    const popNegatives = pop.negatives(Int32Array.of(0, 1, 3), 500)
    expectExcluded(m, Int32Array.of(0, 1, 3), popNegatives, 500)
    // User 0's only non-positives are 3, 6 and 9, all with positive popularity.
    expect(new Set(popNegatives.subarray(0, 500))).toEqual(new Set([3, 6, 9]))
  })

  it('complement users in pairwise / pointwise batches and async calls', async () => {
    const s = new Sampler(m, { seed: 43 })
    const users = Int32Array.of(0, 0, 1)
    const items = Int32Array.of(0, 8, 3)
    expectExcluded(m, users, s.pairwise(users, items, 50).negatives, 50)
    expectExcluded(m, users, (await s.pairwiseAsync(users, items, 50)).negatives, 50)
    const point = s.pointwise(users, items, 5)
    const negatives = [...point.items].filter((_, row) => row % 6 !== 0)
    expectExcluded(m, users, negatives, 5)
  })

  it('hasNegative is false for a user who has every item, true otherwise', () => {
    for (const s of [
      new Sampler(m, { seed: 44 }),
      new Sampler(m, { proposal: 'popularity', seed: 44 }),
      new Sampler(m, { weights: new Float64Array(10).fill(1), seed: 44 }),
    ]) {
      expect([0, 1, 2, 3].map((u) => s.hasNegative(u))).toEqual([true, true, false, true])
      expect(s.usesComplement(2)).toBe(false)
    }
  })

  it('hasNegative is false when a user holds every item with positive weight', () => {
    // Weights zero everywhere except user 1's only item.
    const weights = new Float64Array(10)
    weights[3] = 1
    const s = new Sampler(m, { weights, seed: 45 })
    expect(s.hasNegative(1)).toBe(false)
    expect(s.hasNegative(0)).toBe(true)
    expect(s.negatives(Int32Array.of(0, 3), 20)).toEqual(new Int32Array(40).fill(3))
  })

  it('an epoch skips nothing when every user with positives has a negative', () => {
    const light = Interactions.fromCoo(Int32Array.of(0, 0, 0, 0, 0, 0, 0, 1), Int32Array.of(0, 1, 2, 4, 5, 7, 8, 3), {
      numItems: 10,
    })
    const s = new Sampler(light, { seed: 46 })
    const seen: string[] = []
    for (const b of s.epoch({ batchSize: 3, negatives: 10 })) {
      const u = Int32Array.from({ length: b.users.length / 10 }, (_, j) => b.users[j * 10]!)
      expectExcluded(light, u, b.negatives, 10)
      u.forEach((user, j) => seen.push(`${user}:${b.positives[j * 10]}`))
    }
    expect(seen.sort()).toEqual(pairKeys(light))
  })
})
