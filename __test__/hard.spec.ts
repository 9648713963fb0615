/**
 * Hard negatives and sampled-softmax support through the JavaScript API.
 *
 * - `hardNegatives` ('max') keeps the k best of the candidates it drew: checked against a
 *   brute-force reference that scores all M candidates in float64 and sorts them.
 * - Softmax selection: the chosen item's frequencies match the exact distribution, computed by
 *   enumerating every candidate pair (chi-square, 100,000 positives, p > 1e-4).
 * - No returned negative is a positive (random data, and every training positive of
 *   ../shared/data/lastfm where present); log-probabilities are the sampler's.
 * - `HardNegatives` batches have the shapes of `Sampler` batches; sync, Into and Async agree;
 *   the output does not depend on `parallel`.
 * - `sampledSoftmax`: log Q and TensorFlow's expected counts; S * q against a Monte-Carlo mean.
 * - Accidental-hit masks against a brute-force check on ../shared/data/lastfm.
 * - Bad input: TypeError / RangeError naming the argument and the value.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { chiSquareP } from '../benches/lib/statistics.mjs'

import {
  accidentalHits,
  accidentalHitsAsync,
  HardNegatives,
  hardNegatives,
  hardNegativesAsync,
  hardNegativesInto,
  inBatchHits,
  inBatchHitsAsync,
  Interactions,
  sampledSoftmax,
  sampledSoftmaxAsync,
  Sampler,
} from '../src/index'

/** A small seeded generator for test inputs (xorshift32), unrelated to the engine's streams. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 2 ** 32
  }
}

function randomMatrix(rand: () => number, numUsers: number, numItems: number, perUser: number): Interactions {
  const users: number[] = []
  const items: number[] = []
  for (let u = 0; u < numUsers; u++) {
    for (let t = 0; t < perUser; t++) {
      users.push(u)
      items.push(Math.floor(rand() * numItems))
    }
  }
  return Interactions.fromCoo(Int32Array.from(users), Int32Array.from(items), { numUsers, numItems })
}

function allPositives(m: Interactions): { users: Int32Array; items: Int32Array } {
  const indptr = m.indptr()
  const items = m.indices()
  const users = new Int32Array(items.length)
  for (let u = 0; u < m.numUsers; u++) users.fill(u, Number(indptr[u]), Number(indptr[u + 1]))
  return { users, items: Int32Array.from(items) }
}

function randomFloats(rand: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rand() * 2 - 1)
}

function dot64(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s = 0
  for (let d = 0; d < dim; d++) s += a[ai * dim + d]! * b[bi * dim + d]!
  return s
}

/** Pearson's chi-square of counts against probabilities (bins with probability 0 must be empty). */
function chiSquare(observed: number[], probabilities: number[]): { stat: number; df: number; p: number } {
  const n = observed.reduce((a, b) => a + b, 0)
  let stat = 0
  let bins = 0
  observed.forEach((o, i) => {
    const p = probabilities[i]!
    if (p === 0) {
      expect(o, `bin ${i} has probability 0`).toBe(0)
      return
    }
    const e = p * n
    expect(e, 'every bin expects >= 5').toBeGreaterThanOrEqual(5)
    stat += ((o - e) * (o - e)) / e
    bins++
  })
  return { stat, df: bins - 1, p: chiSquareP(stat, bins - 1) }
}

const LASTFM = path.resolve(__dirname, '..', '..', 'shared', 'data', 'lastfm', 'train.txt')
const HAS_LASTFM = fs.existsSync(LASTFM)
if (!HAS_LASTFM) console.warn(`[hard.spec] lastfm tests skipped: ${LASTFM} is absent`)

function loadLastfm(): Interactions {
  const users: number[] = []
  const items: number[] = []
  for (const line of fs.readFileSync(LASTFM, 'utf8').split('\n')) {
    const ids = line.trim().split(' ').filter(Boolean).map(Number)
    if (ids.length === 0) continue
    for (const i of ids.slice(1)) {
      users.push(ids[0]!)
      items.push(i)
    }
  }
  return Interactions.fromCoo(Int32Array.from(users), Int32Array.from(items))
}

describe('hardNegatives', () => {
  const rand = rng(7)
  const train = randomMatrix(rand, 50, 400, 12)
  const dim = 24
  const userEmbeddings = randomFloats(rand, train.numUsers * dim)
  const itemEmbeddings = randomFloats(rand, train.numItems * dim)
  const { users, items } = allPositives(train)

  it("'max' keeps the best k of the candidates it drew (brute-force reference)", () => {
    const sampler = new Sampler(train, { proposal: 'popularity', seed: 3 })
    const M = 16
    for (const k of [1, 4]) {
      const r = hardNegatives(sampler, users, items, {
        candidates: M,
        negatives: k,
        userEmbeddings,
        itemEmbeddings,
        dim,
        returnCandidates: true,
      })
      expect(r.negatives.length).toBe(users.length * k)
      expect(r.candidates!.length).toBe(users.length * M)
      let exactChecks = 0
      for (let j = 0; j < users.length; j++) {
        const u = users[j]!
        const scored = Array.from(r.candidates!.subarray(j * M, (j + 1) * M), (c, pos) => ({
          c,
          pos,
          s: dot64(userEmbeddings, u, itemEmbeddings, c, dim),
        })).sort((a, b) => b.s - a.s || a.pos - b.pos)
        for (let t = 0; t < k; t++) {
          const chosen = r.negatives[j * k + t]!
          const score = r.scores[j * k + t]!
          // The score is the dot product (float32 accuracy)...
          expect(Math.abs(score - dot64(userEmbeddings, u, itemEmbeddings, chosen, dim))).toBeLessThan(1e-5)
          // ...and the t-th best of the candidates.
          expect(Math.abs(score - scored[t]!.s)).toBeLessThan(1e-5)
          const gapBefore = t === 0 ? Infinity : scored[t - 1]!.s - scored[t]!.s
          const gapAfter = t + 1 < M ? scored[t]!.s - scored[t + 1]!.s : Infinity
          if (gapBefore > 1e-4 && gapAfter > 1e-4) {
            expect(chosen).toBe(scored[t]!.c)
            exactChecks++
          }
        }
      }
      expect(exactChecks).toBeGreaterThan(users.length * k * 0.9)
    }
  })

  it('never returns a positive, and logProbs are the sampler\'s', () => {
    const sampler = new Sampler(train, { proposal: 'popularity', alpha: 0.5, seed: 4 })
    for (const strategy of ['max', 'softmax'] as const) {
      const r = hardNegatives(sampler, users, items, {
        candidates: 8,
        negatives: 3,
        strategy,
        userEmbeddings,
        itemEmbeddings,
        dim,
        logProbs: true,
      })
      for (let j = 0; j < users.length; j++) {
        const row = new Set(train.row(users[j]!))
        for (let t = 0; t < 3; t++) expect(row.has(r.negatives[j * 3 + t]!)).toBe(false)
      }
      expect(r.logProbs).toEqual(sampler.logProbabilities(r.negatives))
    }
  })

  it.skipIf(!HAS_LASTFM)('never returns a positive on lastfm (every training positive)', () => {
    const lastfm = loadLastfm()
    const sampler = new Sampler(lastfm, { proposal: 'popularity', seed: 5 })
    const d = 16
    const r2 = rng(11)
    const ue = randomFloats(r2, lastfm.numUsers * d)
    const ie = randomFloats(r2, lastfm.numItems * d)
    const pos = allPositives(lastfm)
    const r = hardNegatives(sampler, pos.users, pos.items, { candidates: 16, negatives: 2, userEmbeddings: ue, itemEmbeddings: ie, dim: d })
    const rows = Array.from({ length: lastfm.numUsers }, (_, u) => new Set(lastfm.row(u)))
    let bad = 0
    for (let j = 0; j < pos.users.length; j++) {
      for (let t = 0; t < 2; t++) if (rows[pos.users[j]!]!.has(r.negatives[j * 2 + t]!)) bad++
    }
    expect(bad).toBe(0)
  })

  it('softmax choice frequencies match the exact distribution (chi-square)', () => {
    // One user with positive 0; items 1..4 eligible (uniform proposal); M = 2, k = 1.
    const m = Interactions.fromCoo(Int32Array.of(0), Int32Array.of(0), { numItems: 5 })
    const sampler = new Sampler(m, { seed: 9 })
    const ue = Float32Array.of(1)
    const ie = Float32Array.of(5, 0.5, -0.25, 1.5, 0)
    const temperature = 0.6
    const n = 100_000
    const r = hardNegatives(sampler, new Int32Array(n), new Int32Array(n), {
      candidates: 2,
      strategy: 'softmax',
      temperature,
      userEmbeddings: ue,
      itemEmbeddings: ie,
      dim: 1,
    })
    const q = [0, 0.25, 0.25, 0.25, 0.25]
    const expected = [0, 0, 0, 0, 0]
    for (let a = 1; a < 5; a++) {
      for (let b = 1; b < 5; b++) {
        const wa = Math.exp(ie[a]! / temperature)
        const wb = Math.exp(ie[b]! / temperature)
        expected[a]! += q[a]! * q[b]! * (wa / (wa + wb))
        expected[b]! += q[a]! * q[b]! * (wb / (wa + wb))
      }
    }
    const counts = [0, 0, 0, 0, 0]
    for (const x of r.negatives) counts[x]!++
    const result = chiSquare(counts, expected)
    expect(result.p, JSON.stringify(result)).toBeGreaterThan(1e-4)
    // Negative control: 'max' would choose differently.
    const uniformish = chiSquare(counts, [0, 0.25, 0.25, 0.25, 0.25])
    expect(uniformish.p).toBeLessThan(1e-6)
  })

  it('is deterministic: same seed same output, parallel or not, sync / Into / Async alike', async () => {
    const opts = { candidates: 12, negatives: 2, userEmbeddings, itemEmbeddings, dim, logProbs: true }
    const a = hardNegatives(new Sampler(train, { seed: 42 }), users, items, opts)
    const b = hardNegatives(new Sampler(train, { seed: 42 }), users, items, { ...opts, parallel: false })
    expect(b).toEqual(a)
    const out = { negatives: new Int32Array(a.negatives.length), scores: new Float32Array(a.scores.length), logProbs: new Float32Array(a.scores.length) }
    hardNegativesInto(new Sampler(train, { seed: 42 }), users, items, opts, out)
    expect(out).toEqual(a)
    const c = await hardNegativesAsync(new Sampler(train, { seed: 42 }), users, items, opts)
    expect(c).toEqual(a)
    const other = hardNegatives(new Sampler(train, { seed: 43 }), users, items, opts)
    expect(other.negatives).not.toEqual(a.negatives)
  })
})

describe('HardNegatives (a Sampler-shaped batch source)', () => {
  const rand = rng(21)
  const train = randomMatrix(rand, 30, 200, 8)
  const dim = 8
  const userEmbeddings = randomFloats(rand, train.numUsers * dim)
  const itemEmbeddings = randomFloats(rand, train.numItems * dim)
  const { users, items } = allPositives(train)

  it('gives pairwise and pointwise batches with the shapes of Sampler batches, plus scores', async () => {
    const sampler = new Sampler(train, { seed: 1 })
    const hard = new HardNegatives(new Sampler(train, { seed: 1 }), { candidates: 8, userEmbeddings, itemEmbeddings, dim })
    const plain = sampler.pairwise(users, items, 2, { logProbs: true })
    const pw = hard.pairwise(users, items, 2, { logProbs: true })
    expect(Object.keys(pw).sort()).toEqual([...Object.keys(plain), 'scores'].sort())
    expect(pw.users).toEqual(plain.users)
    expect(pw.positives).toEqual(plain.positives)
    expect(pw.negativeLogProbs).toEqual(sampler.logProbabilities(pw.negatives))
    const plainPoint = sampler.pointwise(users, items, 3)
    const pt = hard.pointwise(users, items, 3)
    expect(pt.users).toEqual(plainPoint.users)
    expect(pt.labels).toEqual(plainPoint.labels)
    for (let j = 0; j < users.length; j++) {
      expect(pt.items[j * 4]).toBe(items[j])
      expect(pt.scores[j * 4]).toBeCloseTo(dot64(userEmbeddings, users[j]!, itemEmbeddings, items[j]!, dim), 5)
    }
    // Async forms match the sync ones for the same call sequence.
    const h2 = new HardNegatives(train, { seed: 1, candidates: 8, userEmbeddings, itemEmbeddings, dim })
    expect(await h2.pairwiseAsync(users, items, 2, { logProbs: true })).toEqual(pw)
    expect(await h2.pointwiseAsync(users, items, 3)).toEqual(pt)
  })

  it('sees in-place embedding updates, and an epoch covers every positive once', () => {
    const ue = userEmbeddings.slice()
    const ie = itemEmbeddings.slice()
    const hard = new HardNegatives(train, { seed: 2, candidates: 4, userEmbeddings: ue, itemEmbeddings: ie, dim })
    const before = hard.pairwise(users.subarray(0, 1), items.subarray(0, 1), 1)
    ie.fill(0)
    const after = hard.pairwise(users.subarray(0, 1), items.subarray(0, 1), 1)
    expect(before.scores[0]).not.toBe(0)
    expect(after.scores[0]).toBe(0)
    const seen: string[] = []
    for (const batch of hard.epoch({ batchSize: 50, negatives: 2 })) {
      for (let r = 0; r < batch.users.length; r += 2) seen.push(`${batch.users[r]},${batch.positives[r]}`)
    }
    const all = Array.from(users, (u, j) => `${u},${items[j]}`)
    expect(seen.sort()).toEqual(all.sort())
  })

  it('checks its arguments', () => {
    const sampler = new Sampler(train, { seed: 1 })
    const base = { candidates: 4, userEmbeddings, itemEmbeddings, dim }
    expect(() => new HardNegatives({} as Sampler, base)).toThrow(TypeError)
    expect(() => new HardNegatives(sampler, { ...base, userEmbeddings: new Float64Array(4) as unknown as Float32Array })).toThrow(
      /options.userEmbeddings must be a Float32Array, got Float64Array\(4\)/,
    )
    expect(() => new HardNegatives(sampler, { ...base, strategy: 'hardest' as 'max' })).toThrow(RangeError)
    expect(() => new HardNegatives(sampler, { ...base, temperature: 2 })).toThrow(/temperature applies to the 'softmax' strategy only/)
    const hard = new HardNegatives(sampler, base)
    expect(() => hard.pairwise(users, items, 5)).toThrow(RangeError)
    expect(() => hard.pairwise(users, items, 5)).toThrow(/negatives must be an integer in \[1, candidates\] = \[1, 4\]/)
    expect(() => hard.epoch({ batchSize: 10, negatives: 9 })).toThrow(/^options\.negatives must be an integer in \[1, 4\], got 9$/)
  })
})

describe('bad input to hardNegatives', () => {
  const train = Interactions.fromCoo(Int32Array.of(0, 1), Int32Array.of(0, 1), { numItems: 4 })
  const sampler = new Sampler(train, { seed: 1 })
  const ue = new Float32Array(2 * 3)
  const ie = new Float32Array(4 * 3)
  const opts = { candidates: 3, userEmbeddings: ue, itemEmbeddings: ie, dim: 3 }
  const u = Int32Array.of(0, 1)
  const p = Int32Array.of(0, 1)

  it('names wrong dimensions with both sizes', () => {
    expect(() => hardNegatives(sampler, u, p, { ...opts, userEmbeddings: new Float32Array(5) })).toThrow(
      new RangeError('userEmbeddings.length is 5, expected numUsers * dim = 2 * 3 = 6'),
    )
    expect(() => hardNegatives(sampler, u, p, { ...opts, dim: 4 })).toThrow(
      new RangeError('userEmbeddings.length is 6, expected numUsers * dim = 2 * 4 = 8'),
    )
    expect(() => hardNegatives(sampler, u, p, { ...opts, itemEmbeddings: new Float32Array(13) })).toThrow(
      new RangeError('itemEmbeddings.length is 13, expected numItems * dim = 4 * 3 = 12'),
    )
  })

  it('names bad values and types', () => {
    expect(() => hardNegatives(sampler, u, p, { ...opts, strategy: 'softmax', temperature: NaN })).toThrow(
      new RangeError('temperature must be a finite number > 0, got NaN'),
    )
    expect(() => hardNegatives(sampler, u, p, { ...opts, strategy: 'softmax', temperature: 0 })).toThrow(RangeError)
    expect(() => hardNegatives(sampler, u, p, { ...opts, negatives: 4 })).toThrow(
      new RangeError('negatives must be an integer in [1, candidates] = [1, 3]: k negatives are chosen among the candidates, got 4'),
    )
    expect(() => hardNegatives(sampler, u, p, { ...opts, candidates: 0 })).toThrow(RangeError)
    expect(() => hardNegatives(sampler, u, p, { ...opts, candidates: 1.5 })).toThrow(/^candidates must be a non-negative safe integer, got 1\.5$/)
    expect(() => hardNegatives(sampler, u, Int32Array.of(0), opts)).toThrow(new RangeError('positives.length is 1, expected users.length (2)'))
    expect(() => hardNegatives(sampler, Int32Array.of(0, 2), p, opts)).toThrow(
      new RangeError('users[1] = 2 is out of range: ids must be in [0, 2)'),
    )
    expect(() => hardNegatives(sampler, u, Int32Array.of(0, 9), opts)).toThrow(
      new RangeError('positives[1] = 9 is out of range: ids must be in [0, 4)'),
    )
    expect(() => hardNegatives(sampler, [0, 1] as unknown as Int32Array, p, opts)).toThrow(
      new TypeError('users must be an Int32Array, got Array(2)'),
    )
    expect(() => hardNegatives(sampler, u, p, { ...opts, dim: '3' as unknown as number })).toThrow(TypeError)
    expect(() => hardNegatives({} as Sampler, u, p, opts)).toThrow(new TypeError('sampler must be a Sampler, got Object'))
    const calls = sampler.calls
    expect(() => hardNegatives(sampler, u, p, { ...opts, dim: 4 })).toThrow()
    expect(sampler.calls).toBe(calls)
  })

  it('rejects output buffers that alias the inputs', () => {
    const out = { negatives: new Int32Array(2), scores: ue.subarray(0, 2) }
    expect(() => hardNegativesInto(sampler, u, p, opts, out)).toThrow(/out.scores must not share memory with userEmbeddings/)
  })
})

describe('sampledSoftmax', () => {
  const rand = rng(31)
  const train = randomMatrix(rand, 40, 120, 10)
  const sampler = new Sampler(train, { proposal: 'popularity', seed: 8 })
  const { users, items } = allPositives(train)

  it('returns log Q and TensorFlow expected counts for candidates and positives', () => {
    for (const unique of [false, true]) {
      const r = sampledSoftmax(sampler, items, { numSampled: 30, unique })
      expect(r.candidates.length).toBe(30)
      expect(r.candidateLogQ).toEqual(sampler.logProbabilities(r.candidates))
      expect(r.positiveLogQ).toEqual(sampler.logProbabilities(items))
      if (unique) {
        expect(new Set(r.candidates).size).toBe(30)
        expect(r.numTries).toBeGreaterThanOrEqual(30)
      } else {
        expect(r.numTries).toBe(30)
      }
      r.candidateExpectedCounts.forEach((e, s) => {
        const q = Math.exp(r.candidateLogQ[s]!)
        const tf = r.numTries === 30 ? 30 * q : 1 - (1 - q) ** r.numTries
        expect(e).toBeCloseTo(tf, 5)
      })
    }
  })

  it('S * q matches the Monte-Carlo mean count without unique', () => {
    const S = 20
    const calls = 4000
    const counts = new Float64Array(train.numItems)
    let expected: Float32Array | undefined
    const probe = Int32Array.from({ length: train.numItems }, (_, i) => i)
    for (let c = 0; c < calls; c++) {
      const r = sampledSoftmax(sampler, probe, { numSampled: S })
      for (const x of r.candidates) counts[x]!++
      expected = r.positiveExpectedCounts
    }
    for (let i = 0; i < train.numItems; i++) {
      const e = expected![i]!
      const q = e / S
      const se = Math.sqrt((S * q * (1 - q)) / calls)
      expect(Math.abs(counts[i]! / calls - e)).toBeLessThan(5 * se + 1e-9)
    }
  })

  it('returns the accidental-hit mask with users, and the async form agrees', async () => {
    const u = users.subarray(0, 64)
    const p = items.subarray(0, 64)
    const a = sampledSoftmax(new Sampler(train, { seed: 5 }), p, { numSampled: 50, users: u })
    const b = await sampledSoftmaxAsync(new Sampler(train, { seed: 5 }), p, { numSampled: 50, users: u })
    expect(b).toEqual(a)
    expect(a.hits).toEqual(accidentalHits(train, u, a.candidates, { positives: p }))
  })

  it('names bad input', () => {
    expect(() => sampledSoftmax(sampler, items, { numSampled: 0 })).toThrow(RangeError)
    expect(() => sampledSoftmax(sampler, items, { numSampled: 10_000, unique: true })).toThrow(
      /numSampled must be at most \d+ with unique: true/,
    )
    expect(() => sampledSoftmax(sampler, items, { numSampled: 5, users: users.subarray(0, 3) })).toThrow(
      /users.length is 3, expected positives.length/,
    )
    expect(() => sampledSoftmax(sampler, items, { numSampled: 5, unique: 1 as unknown as boolean })).toThrow(TypeError)
  })
})

describe('accidental hits', () => {
  function brute(rows: Set<number>[], users: Int32Array, cols: Int32Array, positives?: Int32Array, inBatch = false): Float32Array {
    const out = new Float32Array(users.length * cols.length)
    for (let r = 0; r < users.length; r++) {
      for (let c = 0; c < cols.length; c++) {
        const hit = rows[users[r]!]!.has(cols[c]!) || (positives !== undefined && positives[r] === cols[c])
        out[r * cols.length + c] = hit && !(inBatch && r === c) ? 1 : 0
      }
    }
    return out
  }

  /** Index of the first difference, or -1 (a fast check for large masks). */
  function firstDifference(a: Float32Array, b: Float32Array): number {
    if (a.length !== b.length) return Math.min(a.length, b.length)
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i
    return -1
  }

  it.skipIf(!HAS_LASTFM)('match a brute-force check on lastfm (rows x candidates and in-batch)', async () => {
    const lastfm = loadLastfm()
    const rows = Array.from({ length: lastfm.numUsers }, (_, u) => new Set(lastfm.row(u)))
    const pos = allPositives(lastfm)
    const rand = rng(41)
    const pick = Int32Array.from({ length: 512 }, () => Math.floor(rand() * pos.users.length))
    const u = Int32Array.from(pick, (j) => pos.users[j]!)
    const p = Int32Array.from(pick, (j) => pos.items[j]!)
    const sampler = new Sampler(lastfm, { proposal: 'popularity', seed: 1 })
    const cands = sampledSoftmax(sampler, p, { numSampled: 1024 }).candidates
    const mask = accidentalHits(lastfm, u, cands, { positives: p })
    expect(firstDifference(mask, brute(rows, u, cands, p))).toBe(-1)
    expect(mask.some((x) => x === 1)).toBe(true)
    expect(firstDifference(await accidentalHitsAsync(lastfm, u, cands), brute(rows, u, cands))).toBe(-1)
    const inBatch = inBatchHits(lastfm, u, p)
    const expected = brute(rows, u, p, p, true)
    expect(firstDifference(inBatch, expected)).toBe(-1)
    expect(firstDifference(await inBatchHitsAsync(lastfm, u, p), expected)).toBe(-1)
    // More than same-id hits: some marked entries are other items of the user.
    let otherItems = 0
    for (let r = 0; r < u.length; r++) for (let c = 0; c < u.length; c++) if (inBatch[r * u.length + c] === 1 && p[c] !== p[r]) otherItems++
    expect(otherItems).toBeGreaterThan(0)
  })

  it('names bad input', () => {
    const m = Interactions.fromCoo(Int32Array.of(0, 1), Int32Array.of(0, 2), { numItems: 3 })
    expect(() => accidentalHits(m, Int32Array.of(0, 2), Int32Array.of(0))).toThrow(
      new RangeError('users[1] = 2 is out of range: ids must be in [0, 2)'),
    )
    expect(() => accidentalHits(m, Int32Array.of(0), Int32Array.of(3))).toThrow(
      new RangeError('candidates[0] = 3 is out of range: ids must be in [0, 3)'),
    )
    expect(() => inBatchHits(m, Int32Array.of(0, 1), Int32Array.of(0))).toThrow(
      new RangeError('items.length is 1, expected users.length (2)'),
    )
    expect(() => accidentalHits({} as Interactions, Int32Array.of(0), Int32Array.of(0))).toThrow(TypeError)
  })
})
