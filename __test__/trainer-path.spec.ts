/**
 * The trainer's path (issue 13): `sampler.epoch` and `shard.epoch` are filled by the engine in
 * runs of batches (65,536 rows on one thread, 262,144 on several, shared out batch by batch).
 * A batch depends only on the seed, the epoch's call number and its index, so the epoch is the
 * same on 1, 2 and 7 threads (different run sizes), with or without other calls between
 * batches; every positive comes once and no negative is a positive of its user, with complement
 * users, bitmap users and users without positives in the matrix.
 */
import { describe, expect, it } from 'vitest'

import { Interactions, Sampler, shard, synthetic, type PairwiseBatch, type PointwiseBatch } from '../src'

function withHeavyUsers(): Interactions {
  // Power-law synthetic data, plus user 0 holding most items (a complement user).
  const base = synthetic({ numUsers: 4000, numItems: 3000, numInteractions: 150_000, seed: 5 })
  const users: number[] = []
  const items: number[] = []
  for (let u = 0; u < base.numUsers; u++) {
    for (const i of base.row(u)) {
      users.push(u)
      items.push(i)
    }
  }
  for (let i = 0; i < 2900; i++) {
    users.push(0)
    items.push(i)
  }
  return Interactions.fromCoo(Int32Array.from(users), Int32Array.from(items), { numItems: 3000 })
}

const m = withHeavyUsers()

function positivesOf(m: Interactions): Set<string> {
  const set = new Set<string>()
  for (let u = 0; u < m.numUsers; u++) for (const i of m.row(u)) set.add(`${u}:${i}`)
  return set
}
const positives = positivesOf(m)

function flat(batches: (PairwiseBatch | PointwiseBatch)[]): number[][] {
  return batches.map((b) => ('negatives' in b ? [...b.users, ...b.positives, ...b.negatives] : [...b.users, ...b.items]))
}

describe('native epochs', () => {
  it('are the same on 1, 2 and 7 threads, and cover every positive once with no positive negative', () => {
    const s1 = new Sampler(m, { seed: 9, threads: 1 })
    expect(s1.usesComplement(0)).toBe(true)
    const one = [...s1.epoch({ batchSize: 1000 })]
    for (const threads of [2, 7]) {
      const s = new Sampler(m, { seed: 9, threads })
      expect(flat([...s.epoch({ batchSize: 1000 })])).toEqual(flat(one))
    }
    const seen = new Set<string>()
    let wrong = 0
    for (const b of one) {
      for (let j = 0; j < b.users.length; j++) {
        const pair = `${b.users[j]}:${b.positives[j]}`
        if (!positives.has(pair)) wrong++
        seen.add(pair)
        if (positives.has(`${b.users[j]}:${b.negatives[j]}`)) wrong++
      }
    }
    expect(wrong).toBe(0)
    expect(seen.size).toBe(m.nnz)
    expect(one.reduce((n, b) => n + b.users.length, 0)).toBe(m.nnz)
  })

  it('pointwise, k = 4: the same on every thread count; each positive then four negatives', () => {
    const a = [...new Sampler(m, { seed: 3, threads: 1 }).epoch({ batchSize: 700, negatives: 4, shape: 'pointwise' })]
    const b = [...new Sampler(m, { seed: 3, threads: 2 }).epoch({ batchSize: 700, negatives: 4, shape: 'pointwise' })]
    expect(flat(b)).toEqual(flat(a))
    let wrong = 0
    for (const batch of a) {
      for (let r = 0; r < batch.items.length; r++) {
        const positive = r % 5 === 0
        if (batch.labels[r] !== (positive ? 1 : 0)) wrong++
        if (positives.has(`${batch.users[r]}:${batch.items[r]}`) !== positive) wrong++
      }
    }
    expect(wrong).toBe(0)
  })

  it('a shard epoch takes one shard call number and walks the shard positives in order', () => {
    const s = new Sampler(m, { seed: 4, threads: 2 })
    const mine = shard(s, { rank: 1, worldSize: 3 })
    const order = mine.positives(2)
    const batches = [...mine.epoch({ epoch: 2, batchSize: 5000 })]
    expect(mine.calls).toBe(1)
    expect(batches.flatMap((b) => [...b.users])).toEqual([...order.users])
    expect(batches.flatMap((b) => [...b.positives])).toEqual([...order.items])
  })

  it('stopping early is safe, and the next epoch is a fresh shuffle', () => {
    const s = new Sampler(m, { seed: 6 })
    const first = s.epoch({ batchSize: 100 }).next().value!
    const second = s.epoch({ batchSize: 100 }).next().value!
    expect([...second.users]).not.toEqual([...first.users])
    expect(s.calls).toBe(2)
  })
})
