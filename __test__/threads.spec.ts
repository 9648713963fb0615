/**
 * The `threads` option: large calls are spread over a pool of threads, in the fixed blocks of
 * the determinism design, so the output is the same for 1, 2 and 7 threads (and the default),
 * for every call form (fresh, ...Into, ...Async), above and below the size at which calls go
 * parallel. Bad values are a TypeError or RangeError naming `options.threads`.
 */
import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'

import { Interactions, Sampler } from '../src'

/** A small seeded generator for test inputs. */
function lcg(seed: number): (n: number) => number {
  let s = seed >>> 0
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return Math.floor((s / 2 ** 32) * n)
  }
}

const NUM_USERS = 3000
const NUM_ITEMS = 5000

function matrix(): Interactions {
  const next = lcg(11)
  const users: number[] = []
  const items: number[] = []
  for (let u = 0; u < NUM_USERS; u++) {
    // every 40th user heavy (complement), every 6th with a long row (bitmap), some empty
    const count = u % 40 === 0 ? 4000 : u % 6 === 0 ? 300 : u % 13 === 0 ? 0 : 1 + next(25)
    for (let j = 0; j < count; j++) {
      users.push(u)
      items.push(next(NUM_ITEMS))
    }
  }
  return Interactions.fromCoo(Int32Array.from(users), Int32Array.from(items), { numUsers: NUM_USERS, numItems: NUM_ITEMS })
}

const train = matrix()
const next = lcg(5)
/** 100,000 positives' users: 400,000 negatives at k = 4, far above the parallel threshold (65,536). */
const bigUsers = Int32Array.from({ length: 100_000 }, () => next(NUM_USERS))
const bigItems = bigUsers.map((u) => u % NUM_ITEMS)
const smallUsers = bigUsers.subarray(0, 1000)

function samplers(proposal: 'uniform' | 'popularity'): Sampler[] {
  return [1, 2, 7, undefined].map((threads) =>
    new Sampler(train, { proposal, seed: 2024n, ...(threads === undefined ? {} : { threads }) }),
  )
}

describe('threads option', () => {
  it('defaults to every core and reports what it uses', () => {
    expect(new Sampler(train, { seed: 1 }).threads).toBe(availableParallelism())
    expect(new Sampler(train, { seed: 1, threads: 7 }).threads).toBe(7)
    expect(new Sampler(train, { seed: 1, threads: 1 }).threads).toBe(1)
  })

  for (const proposal of ['uniform', 'popularity'] as const) {
    it(`${proposal}: negatives are identical for 1, 2, 7 and the default number of threads`, async () => {
      const [one, ...others] = samplers(proposal)
      const expectedBig = one!.negatives(bigUsers, 4)
      const expectedSmall = one!.negatives(smallUsers, 3)
      const expectedAsync = await one!.negativesAsync(bigUsers, 2)
      const expectedInto = one!.negativesInto(bigUsers, 1, new Int32Array(bigUsers.length))
      for (const sampler of others) {
        expect(sampler.negatives(bigUsers, 4)).toEqual(expectedBig)
        expect(sampler.negatives(smallUsers, 3)).toEqual(expectedSmall)
        expect(await sampler.negativesAsync(bigUsers, 2)).toEqual(expectedAsync)
        expect(sampler.negativesInto(bigUsers, 1, new Int32Array(bigUsers.length))).toEqual(expectedInto)
      }
      // and none of them is a positive of its user
      for (let j = 0; j < bigUsers.length; j += 97) {
        const row = new Set(train.row(bigUsers[j]!))
        for (let c = 0; c < 4; c++) expect(row.has(expectedBig[j * 4 + c]!)).toBe(false)
      }
    })
  }

  it('pairwise and pointwise batches are identical for any thread count', async () => {
    const [one, ...others] = samplers('uniform')
    const pairwise = one!.pairwise(bigUsers, bigItems, 2)
    const pointwise = await one!.pointwiseAsync(bigUsers, bigItems, 2)
    for (const sampler of others) {
      expect(sampler.pairwise(bigUsers, bigItems, 2)).toEqual(pairwise)
      expect(await sampler.pointwiseAsync(bigUsers, bigItems, 2)).toEqual(pointwise)
    }
  })

  it('rejects bad thread counts with errors that name the option', () => {
    for (const bad of [0, -1, 1.5, 257, Number.NaN]) {
      expect(() => new Sampler(train, { threads: bad })).toThrow(RangeError)
      expect(() => new Sampler(train, { threads: bad })).toThrow(/^options\.threads must be (an integer in \[1, 256\]|a non-negative safe integer), got /)
    }
    expect(() => new Sampler(train, { threads: '2' as unknown as number })).toThrow(TypeError)
    expect(() => new Sampler(train, { threads: '2' as unknown as number })).toThrow(/options\.threads must be a number, got/)
  })
})
