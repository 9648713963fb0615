/**
 * Every exported function and method, called with bad input: the exact error
 * class (TypeError for a wrong JavaScript type, RangeError for a wrong value),
 * a message naming the argument (and the value where there is one), Promise
 * rejections for the async forms, and no writes into caller buffers when a
 * call throws.
 */
import { describe, expect, it } from 'vitest'
import { Interactions, Sampler } from '../src/index'
import type { PairwiseBatch, PointwiseBatch } from '../src/index'

type ErrorClass = typeof TypeError | typeof RangeError

interface Case {
  name: string
  call: () => unknown
  error: ErrorClass
  message: RegExp
}

interface AsyncCase {
  name: string
  call: () => Promise<unknown>
  error: ErrorClass
  message: RegExp
}

/** Asserts the class (exactly, not a subclass or a plain Error) and the message of a synchronous throw. */
function expectThrow({ call, error, message }: Case): void {
  let thrown: unknown
  try {
    call()
  } catch (e) {
    thrown = e
  }
  expect(thrown, 'the call should throw').toBeDefined()
  expect((thrown as Error).constructor).toBe(error)
  expect((thrown as Error).message).toMatch(message)
}

/** Asserts that an async form returns a Promise (never throws) which rejects with the class and message. */
async function expectReject({ call, error, message }: AsyncCase): Promise<void> {
  let promise: Promise<unknown> | undefined
  expect(() => {
    promise = call()
  }).not.toThrow()
  expect(promise).toBeInstanceOf(Promise)
  let thrown: unknown
  try {
    await promise
  } catch (e) {
    thrown = e
  }
  expect(thrown, 'the Promise should reject').toBeDefined()
  expect((thrown as Error).constructor).toBe(error)
  expect((thrown as Error).message).toMatch(message)
}

const SENTINEL = -7

// Users 0..2 over 6 items: user 0 holds {1, 3}, user 1 holds {0}, user 2
// holds every item (no possible negative), user 3 holds nothing.
const matrix = Interactions.fromCoo(
  Int32Array.of(0, 0, 1, 2, 2, 2, 2, 2, 2),
  Int32Array.of(1, 3, 0, 0, 1, 2, 3, 4, 5),
  { numUsers: 4, numItems: 6 },
)
const NO_NEGATIVE = 2
const sampler = new Sampler(matrix, { seed: 1 })

const users = Int32Array.of(0, 1)
const items = Int32Array.of(1, 0)

/** Wrong JavaScript types for an Int32Array argument. */
const notInt32: [string, unknown, RegExp][] = [
  ['undefined', undefined, /got undefined/],
  ['null', null, /got null/],
  ['a number', 3, /got number 3/],
  ['a plain array', [0, 1], /got Array\(2\)/],
  ['a Float64Array', Float64Array.of(0, 1), /got Float64Array\(2\)/],
  ['a Uint32Array', Uint32Array.of(0, 1), /got Uint32Array\(2\)/],
  ['a string', '0,1', /got string "0,1"/],
  ['a plain object', { length: 2 }, /got Object/],
]

/** Wrong JavaScript types for a number argument. */
const notNumber: [string, unknown, RegExp][] = [
  ['undefined', undefined, /got undefined/],
  ['null', null, /got null/],
  ['a string', '2', /got string "2"/],
  ['a bigint', 2n, /got bigint 2/],
  ['an array', [2], /got Array\(1\)/],
]

/** Wrong values for k (negatives per positive). */
const badK: [string, number, RegExp][] = [
  ['0', 0, /^k must be an integer >= 1, got 0$/],
  ['1.5', 1.5, /^k must be a non-negative safe integer, got 1\.5$/],
  ['NaN', NaN, /^k must be a non-negative safe integer, got NaN$/],
  ['-1', -1, /^k must be a non-negative safe integer, got -1$/],
  ['Infinity', Infinity, /^k must be a non-negative safe integer, got Infinity$/],
  ['2**40', 2 ** 40, /^k must be at most \d+ for 2 users .*got 1099511627776$/],
]

// ---------------------------------------------------------------- builders

const any = (v: unknown) => v as never

function pairOut(rows: number): PairwiseBatch {
  return {
    users: new Int32Array(rows).fill(SENTINEL),
    positives: new Int32Array(rows).fill(SENTINEL),
    negatives: new Int32Array(rows).fill(SENTINEL),
  }
}

function pointOut(rows: number): PointwiseBatch {
  return {
    users: new Int32Array(rows).fill(SENTINEL),
    items: new Int32Array(rows).fill(SENTINEL),
    labels: new Float32Array(rows).fill(SENTINEL),
  }
}

// ---------------------------------------------------------------- cases

const typeCases: Case[] = [
  // Interactions.fromCoo
  ...notInt32.map(([what, v, m]): Case => ({
    name: `fromCoo: users is ${what}`,
    call: () => Interactions.fromCoo(any(v), items),
    error: TypeError,
    message: new RegExp(`^users must be an Int32Array, ${m.source}`),
  })),
  ...notInt32.map(([what, v, m]): Case => ({
    name: `fromCoo: items is ${what}`,
    call: () => Interactions.fromCoo(users, any(v)),
    error: TypeError,
    message: new RegExp(`^items must be an Int32Array, ${m.source}`),
  })),
  { name: 'fromCoo: options is null', call: () => Interactions.fromCoo(users, items, any(null)), error: TypeError, message: /^options must be an object, got null/ },
  { name: 'fromCoo: options is a number', call: () => Interactions.fromCoo(users, items, any(3)), error: TypeError, message: /^options must be an object, got number 3/ },
  { name: 'fromCoo: options is an array', call: () => Interactions.fromCoo(users, items, any([])), error: TypeError, message: /^options must be an object, got Array\(0\)/ },
  { name: 'fromCoo: numUsers is a string', call: () => Interactions.fromCoo(users, items, { numUsers: any('4') }), error: TypeError, message: /^numUsers must be a number, got string "4"/ },
  { name: 'fromCoo: numItems is null', call: () => Interactions.fromCoo(users, items, { numItems: any(null) }), error: TypeError, message: /^numItems must be a number, got null/ },
  { name: 'fromCoo: a stray huge user id without numUsers', call: () => Interactions.fromCoo(Int32Array.of(0, 2 ** 31 - 2), Int32Array.of(1, 2)), error: RangeError, message: /^numUsers must be given explicitly when above max\(2\^24, 64 x pairs\) = 16777216.*got 2147483647 \(inferred/ },
  { name: 'fromCoo: a stray huge item id without numItems', call: () => Interactions.fromCoo(Int32Array.of(0), Int32Array.of(2 ** 30)), error: RangeError, message: /^numItems must be given explicitly/ },

  // Interactions.fromCsr
  ...[
    ...notInt32.filter(([what]) => what !== 'a Float64Array'),
    ['a Float32Array', Float32Array.of(0, 2), /got Float32Array\(2\)/] as [string, unknown, RegExp],
    ['a BigUint64Array', BigUint64Array.of(0n, 2n), /got BigUint64Array\(2\)/] as [string, unknown, RegExp],
  ].map(([what, v, m]): Case => ({
    name: `fromCsr: indptr is ${what}`,
    call: () => Interactions.fromCsr(any(v), items),
    error: TypeError,
    message: new RegExp(`^indptr must be an Int32Array, Float64Array or BigInt64Array, ${m.source}`),
  })),
  ...notInt32.map(([what, v, m]): Case => ({
    name: `fromCsr: indices is ${what}`,
    call: () => Interactions.fromCsr(Int32Array.of(0, 2), any(v)),
    error: TypeError,
    message: new RegExp(`^indices must be an Int32Array, ${m.source}`),
  })),
  { name: 'fromCsr: options is a string', call: () => Interactions.fromCsr(Int32Array.of(0, 2), items, any('x')), error: TypeError, message: /^options must be an object, got string "x"/ },
  { name: 'fromCsr: numItems is a string', call: () => Interactions.fromCsr(Int32Array.of(0, 2), items, { numItems: any('9') }), error: TypeError, message: /^numItems must be a number, got string "9"/ },

  // Interactions methods
  ...notNumber.map(([what, v, m]): Case => ({
    name: `row: user is ${what}`,
    call: () => matrix.row(any(v)),
    error: TypeError,
    message: new RegExp(`^user must be a number, ${m.source}`),
  })),

  // Sampler constructor
  ...([
    ['undefined', undefined, /got undefined/],
    ['null', null, /got null/],
    ['a number', 1, /got number 1/],
    ['a plain object', {}, /got Object/],
    ['an Int32Array', users, /got Int32Array\(2\)/],
  ] as [string, unknown, RegExp][]).map(([what, v, m]): Case => ({
    name: `Sampler: interactions is ${what}`,
    call: () => new Sampler(any(v)),
    error: TypeError,
    message: new RegExp(`^interactions must be an Interactions, ${m.source}`),
  })),
  { name: 'Sampler: options is null', call: () => new Sampler(matrix, any(null)), error: TypeError, message: /^options must be an object, got null/ },
  { name: 'Sampler: options is a string', call: () => new Sampler(matrix, any('uniform')), error: TypeError, message: /^options must be an object, got string "uniform"/ },
  { name: 'Sampler: weights is a plain array', call: () => new Sampler(matrix, { weights: any([1, 1, 1, 1, 1, 1]) }), error: TypeError, message: /^options\.weights must be a Float32Array or Float64Array, got Array\(6\)/ },
  { name: 'Sampler: weights is an Int32Array', call: () => new Sampler(matrix, { weights: any(new Int32Array(6)) }), error: TypeError, message: /^options\.weights must be a Float32Array or Float64Array, got Int32Array\(6\)/ },
  { name: "Sampler: proposal 'weights' without weights", call: () => new Sampler(matrix, { proposal: 'weights' }), error: TypeError, message: /^options\.weights must be a Float32Array or Float64Array, got undefined/ },
  { name: 'Sampler: alpha is a string', call: () => new Sampler(matrix, { proposal: 'popularity', alpha: any('0.5') }), error: TypeError, message: /^options\.alpha must be a number, got string "0\.5"/ },
  { name: 'Sampler: seed is a string', call: () => new Sampler(matrix, { seed: any('1') }), error: TypeError, message: /^seed must be a number or bigint, got string "1"/ },
  { name: 'Sampler: seed is null', call: () => new Sampler(matrix, { seed: any(null) }), error: TypeError, message: /^seed must be a number or bigint, got null/ },

  // Sampler user queries
  ...notNumber.flatMap(([what, v, m]): Case[] => [
    { name: `hasNegative: user is ${what}`, call: () => sampler.hasNegative(any(v)), error: TypeError, message: new RegExp(`^user must be a number, ${m.source}`) },
    { name: `usesComplement: user is ${what}`, call: () => sampler.usesComplement(any(v)), error: TypeError, message: new RegExp(`^user must be a number, ${m.source}`) },
  ]),

  // Sampling calls: Int32Array arguments
  ...notInt32.flatMap(([what, v, m]): Case[] => [
    { name: `negatives: users is ${what}`, call: () => sampler.negatives(any(v), 1), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `negativesInto: users is ${what}`, call: () => sampler.negativesInto(any(v), 1, new Int32Array(2)), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `negativesInto: out is ${what}`, call: () => sampler.negativesInto(users, 1, any(v)), error: TypeError, message: new RegExp(`^out must be an Int32Array, ${m.source}`) },
    { name: `pairwise: users is ${what}`, call: () => sampler.pairwise(any(v), items, 1), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `pairwise: items is ${what}`, call: () => sampler.pairwise(users, any(v), 1), error: TypeError, message: new RegExp(`^items must be an Int32Array, ${m.source}`) },
    { name: `pairwiseInto: users is ${what}`, call: () => sampler.pairwiseInto(any(v), items, 1, pairOut(2)), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `pairwiseInto: items is ${what}`, call: () => sampler.pairwiseInto(users, any(v), 1, pairOut(2)), error: TypeError, message: new RegExp(`^items must be an Int32Array, ${m.source}`) },
    { name: `pairwiseInto: out.users is ${what}`, call: () => sampler.pairwiseInto(users, items, 1, { ...pairOut(2), users: any(v) }), error: TypeError, message: new RegExp(`^out\\.users must be an Int32Array, ${m.source}`) },
    { name: `pairwiseInto: out.positives is ${what}`, call: () => sampler.pairwiseInto(users, items, 1, { ...pairOut(2), positives: any(v) }), error: TypeError, message: new RegExp(`^out\\.positives must be an Int32Array, ${m.source}`) },
    { name: `pairwiseInto: out.negatives is ${what}`, call: () => sampler.pairwiseInto(users, items, 1, { ...pairOut(2), negatives: any(v) }), error: TypeError, message: new RegExp(`^out\\.negatives must be an Int32Array, ${m.source}`) },
    { name: `pointwise: users is ${what}`, call: () => sampler.pointwise(any(v), items, 1), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `pointwise: items is ${what}`, call: () => sampler.pointwise(users, any(v), 1), error: TypeError, message: new RegExp(`^items must be an Int32Array, ${m.source}`) },
    { name: `pointwiseInto: users is ${what}`, call: () => sampler.pointwiseInto(any(v), items, 1, pointOut(4)), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `pointwiseInto: out.users is ${what}`, call: () => sampler.pointwiseInto(users, items, 1, { ...pointOut(4), users: any(v) }), error: TypeError, message: new RegExp(`^out\\.users must be an Int32Array, ${m.source}`) },
    { name: `pointwiseInto: out.items is ${what}`, call: () => sampler.pointwiseInto(users, items, 1, { ...pointOut(4), items: any(v) }), error: TypeError, message: new RegExp(`^out\\.items must be an Int32Array, ${m.source}`) },
    { name: `logProbabilities: items is ${what}`, call: () => sampler.logProbabilities(any(v)), error: TypeError, message: new RegExp(`^items must be an Int32Array, ${m.source}`) },
    { name: `logProbabilitiesInto: items is ${what}`, call: () => sampler.logProbabilitiesInto(any(v), new Float32Array(2)), error: TypeError, message: new RegExp(`^items must be an Int32Array, ${m.source}`) },
  ]),
  // Float32Array outputs
  ...([
    ['undefined', undefined, /got undefined/],
    ['a plain array', [0, 0, 0, 0], /got Array\(4\)/],
    ['a Float64Array', new Float64Array(4), /got Float64Array\(4\)/],
    ['an Int32Array', new Int32Array(4), /got Int32Array\(4\)/],
  ] as [string, unknown, RegExp][]).flatMap(([what, v, m]): Case[] => [
    { name: `pointwiseInto: out.labels is ${what}`, call: () => sampler.pointwiseInto(users, items, 1, { ...pointOut(4), labels: any(v) }), error: TypeError, message: new RegExp(`^out\\.labels must be a Float32Array, ${m.source}`) },
    { name: `logProbabilitiesInto: out is ${what}`, call: () => sampler.logProbabilitiesInto(Int32Array.of(0, 1, 2, 3), any(v)), error: TypeError, message: new RegExp(`^out must be a Float32Array, ${m.source}`) },
  ]),
  { name: 'pairwiseInto: out is null', call: () => sampler.pairwiseInto(users, items, 1, any(null)), error: TypeError, message: /^out must be an object, got null/ },
  { name: 'pointwiseInto: out is null', call: () => sampler.pointwiseInto(users, items, 1, any(null)), error: TypeError, message: /^out must be an object, got null/ },
  { name: 'pointwiseInto: out is an Int32Array', call: () => sampler.pointwiseInto(users, items, 1, any(new Int32Array(4))), error: TypeError, message: /out\.users must be an Int32Array, got undefined/ },
  { name: 'pairwise: options is a number', call: () => sampler.pairwise(users, items, 1, any(1)), error: TypeError, message: /^options must be an object, got number 1/ },
  { name: 'pointwise: options is null', call: () => sampler.pointwise(users, items, 1, any(null)), error: TypeError, message: /^options must be an object, got null/ },

  // Sampling calls: k of the wrong type
  ...notNumber.flatMap(([what, v, m]): Case[] => [
    { name: `negatives: k is ${what}`, call: () => sampler.negatives(users, any(v)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
    { name: `negativesInto: k is ${what}`, call: () => sampler.negativesInto(users, any(v), new Int32Array(2)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
    { name: `pairwise: k is ${what}`, call: () => sampler.pairwise(users, items, any(v)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
    { name: `pairwiseInto: k is ${what}`, call: () => sampler.pairwiseInto(users, items, any(v), pairOut(2)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
    { name: `pointwise: k is ${what}`, call: () => sampler.pointwise(users, items, any(v)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
    { name: `pointwiseInto: k is ${what}`, call: () => sampler.pointwiseInto(users, items, any(v), pointOut(4)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
    { name: `batchesPerEpoch: batchSize is ${what}`, call: () => sampler.batchesPerEpoch(any(v)), error: TypeError, message: new RegExp(`^batchSize must be a number, ${m.source}`) },
  ]),

  // epoch
  { name: 'epoch: options is undefined', call: () => sampler.epoch(any(undefined)), error: TypeError, message: /^options must be an object with a batchSize, got undefined/ },
  { name: 'epoch: options is null', call: () => sampler.epoch(any(null)), error: TypeError, message: /^options must be an object with a batchSize, got null/ },
  { name: 'epoch: options is a number', call: () => sampler.epoch(any(64)), error: TypeError, message: /^options must be an object with a batchSize, got number 64/ },
  { name: 'epoch: batchSize is missing', call: () => sampler.epoch(any({})), error: TypeError, message: /^options\.batchSize must be a number, got undefined/ },
  { name: 'epoch: batchSize is a string', call: () => sampler.epoch({ batchSize: any('64') }), error: TypeError, message: /^options\.batchSize must be a number, got string "64"/ },
  { name: 'epoch: negatives is a string', call: () => sampler.epoch({ batchSize: 4, negatives: any('2') }), error: TypeError, message: /^options\.negatives must be a number, got string "2"/ },
]

const shared = new Int32Array(16)
const rangeCases: Case[] = [
  // Interactions.fromCoo
  { name: 'fromCoo: negative user id', call: () => Interactions.fromCoo(Int32Array.of(0, -1), items), error: RangeError, message: /^users\[1\] = -1 is out of range/ },
  { name: 'fromCoo: negative item id', call: () => Interactions.fromCoo(users, Int32Array.of(-5, 0)), error: RangeError, message: /^items\[0\] = -5 is out of range/ },
  { name: 'fromCoo: user id >= numUsers', call: () => Interactions.fromCoo(Int32Array.of(0, 3), items, { numUsers: 3 }), error: RangeError, message: /^users\[1\] = 3 is out of range: ids must be in \[0, 3\)/ },
  { name: 'fromCoo: item id >= numItems', call: () => Interactions.fromCoo(users, Int32Array.of(0, 7), { numItems: 7 }), error: RangeError, message: /^items\[1\] = 7 is out of range: ids must be in \[0, 7\)/ },
  { name: 'fromCoo: lengths differ', call: () => Interactions.fromCoo(Int32Array.of(0, 1, 2), items), error: RangeError, message: /^items\.length is 2, expected users\.length \(3\)/ },
  { name: 'fromCoo: numUsers = -1', call: () => Interactions.fromCoo(users, items, { numUsers: -1 }), error: RangeError, message: /^numUsers must be a non-negative safe integer, got -1$/ },
  { name: 'fromCoo: numItems = 1.5', call: () => Interactions.fromCoo(users, items, { numItems: 1.5 }), error: RangeError, message: /^numItems must be a non-negative safe integer, got 1\.5$/ },
  { name: 'fromCoo: numItems = NaN', call: () => Interactions.fromCoo(users, items, { numItems: NaN }), error: RangeError, message: /^numItems must be a non-negative safe integer, got NaN$/ },
  { name: 'fromCoo: numUsers = 2**31', call: () => Interactions.fromCoo(users, items, { numUsers: 2 ** 31 }), error: RangeError, message: /^numUsers must be at most 2147483647, got 2147483648$/ },

  // Interactions.fromCsr
  { name: 'fromCsr: indptr does not start at 0', call: () => Interactions.fromCsr(Int32Array.of(1, 2), items), error: RangeError, message: /^indptr\[0\] = 1 is invalid: expected 0/ },
  { name: 'fromCsr: indptr decreases', call: () => Interactions.fromCsr(Int32Array.of(0, 2, 1, 2), items), error: RangeError, message: /^indptr\[2\] = 1 is invalid: expected a value >= indptr\[1\] = 2/ },
  { name: 'fromCsr: indptr does not end at indices.length', call: () => Interactions.fromCsr(Int32Array.of(0, 1), items), error: RangeError, message: /^indptr\[1\] = 1 is invalid: expected indices\.length = 2/ },
  { name: 'fromCsr: indptr ends past indices.length (Float64Array)', call: () => Interactions.fromCsr(Float64Array.of(0, 3), items), error: RangeError, message: /^indptr\[1\] = 3 is invalid/ },
  { name: 'fromCsr: indptr ends past indices.length (BigInt64Array)', call: () => Interactions.fromCsr(BigInt64Array.of(0n, 1n, 5n), items), error: RangeError, message: /^indptr\[2\] = 5 is invalid/ },
  { name: 'fromCsr: empty indptr', call: () => Interactions.fromCsr(new Int32Array(0), new Int32Array(0)), error: RangeError, message: /^indptr\[0\] .*expected at least one offset/ },
  { name: 'fromCsr: negative offset', call: () => Interactions.fromCsr(Int32Array.of(-1, 2), items), error: RangeError, message: /^indptr\[0\] must be a non-negative safe integer, got -1$/ },
  { name: 'fromCsr: fractional offset', call: () => Interactions.fromCsr(Float64Array.of(0, 0.5, 2), items), error: RangeError, message: /^indptr\[1\] must be a non-negative safe integer, got 0\.5$/ },
  { name: 'fromCsr: NaN offset', call: () => Interactions.fromCsr(Float64Array.of(0, NaN, 2), items), error: RangeError, message: /^indptr\[1\] must be a non-negative safe integer, got NaN$/ },
  { name: 'fromCsr: item id >= numItems', call: () => Interactions.fromCsr(Int32Array.of(0, 2), Int32Array.of(0, 4), { numItems: 4 }), error: RangeError, message: /^indices\[1\] = 4 is out of range: ids must be in \[0, 4\)/ },
  { name: 'fromCsr: negative item id', call: () => Interactions.fromCsr(Int32Array.of(0, 2), Int32Array.of(0, -3)), error: RangeError, message: /^indices\[1\] = -3 is out of range/ },
  { name: 'fromCsr: numItems = -2', call: () => Interactions.fromCsr(Int32Array.of(0, 2), items, { numItems: -2 }), error: RangeError, message: /^numItems must be a non-negative safe integer, got -2$/ },

  // Interactions.row
  { name: 'row: user = -1', call: () => matrix.row(-1), error: RangeError, message: /^user must be a non-negative safe integer, got -1$/ },
  { name: 'row: user = numUsers', call: () => matrix.row(4), error: RangeError, message: /^user must be an integer in \[0, 3\], got 4$/ },
  { name: 'row: user = 1.5', call: () => matrix.row(1.5), error: RangeError, message: /^user must be a non-negative safe integer, got 1\.5$/ },
  { name: 'row: user = NaN', call: () => matrix.row(NaN), error: RangeError, message: /^user must be a non-negative safe integer, got NaN$/ },

  // Sampler constructor
  { name: 'Sampler: unknown proposal', call: () => new Sampler(matrix, { proposal: any('zipf') }), error: RangeError, message: /^options\.proposal must be 'uniform', 'popularity' or 'weights', got string "zipf"/ },
  { name: 'Sampler: alpha = -1', call: () => new Sampler(matrix, { proposal: 'popularity', alpha: -1 }), error: RangeError, message: /^alpha must be a finite number >= 0, got -1$/ },
  { name: 'Sampler: alpha = NaN', call: () => new Sampler(matrix, { proposal: 'popularity', alpha: NaN }), error: RangeError, message: /^alpha must be a finite number >= 0, got NaN$/ },
  { name: 'Sampler: alpha = Infinity', call: () => new Sampler(matrix, { proposal: 'popularity', alpha: Infinity }), error: RangeError, message: /^alpha must be a finite number >= 0, got (inf|Infinity)$/ },
  { name: 'Sampler: alpha with the uniform proposal', call: () => new Sampler(matrix, { alpha: 0.5 }), error: RangeError, message: /^options\.alpha applies to the 'popularity' proposal only, but proposal is 'uniform'/ },
  { name: 'Sampler: weights with the popularity proposal', call: () => new Sampler(matrix, { proposal: 'popularity', weights: new Float64Array(6).fill(1) }), error: RangeError, message: /^options\.weights applies to the 'weights' proposal only, but proposal is 'popularity'/ },
  { name: 'Sampler: a NaN weight', call: () => new Sampler(matrix, { weights: Float64Array.of(1, 1, NaN, 1, 1, 1) }), error: RangeError, message: /^weights\[2\] = NaN is invalid/ },
  { name: 'Sampler: an infinite weight', call: () => new Sampler(matrix, { weights: Float64Array.of(1, 1, 1, Infinity, 1, 1) }), error: RangeError, message: /^weights\[3\] = (inf|Infinity) is invalid/ },
  { name: 'Sampler: a negative weight', call: () => new Sampler(matrix, { weights: Float32Array.of(1, -0.5, 1, 1, 1, 1) }), error: RangeError, message: /^weights\[1\] = -0\.5 is invalid: weights must be finite and >= 0/ },
  { name: 'Sampler: all-zero weights', call: () => new Sampler(matrix, { weights: new Float64Array(6) }), error: RangeError, message: /^weights are all zero/ },
  { name: 'Sampler: weights too short', call: () => new Sampler(matrix, { weights: new Float64Array(5).fill(1) }), error: RangeError, message: /^weights\.length is 5, expected numItems \(6\)/ },
  { name: 'Sampler: weights too long', call: () => new Sampler(matrix, { weights: new Float32Array(7).fill(1) }), error: RangeError, message: /^weights\.length is 7, expected numItems \(6\)/ },
  ...(['uniform', 'popularity'] as const).map((proposal): Case => ({
    name: `Sampler: empty catalogue (${proposal})`,
    call: () => new Sampler(Interactions.fromCoo(new Int32Array(0), new Int32Array(0), { numUsers: 2, numItems: 0 }), { proposal }),
    error: RangeError,
    message: /^numItems is 0: the catalogue has no items/,
  })),
  { name: 'Sampler: empty catalogue (weights)', call: () => new Sampler(Interactions.fromCoo(new Int32Array(0), new Int32Array(0), { numItems: 0 }), { weights: new Float64Array(0) }), error: RangeError, message: /numItems is 0/ },
  { name: 'Sampler: popularity with no interactions', call: () => new Sampler(Interactions.fromCoo(new Int32Array(0), new Int32Array(0), { numUsers: 1, numItems: 3 }), { proposal: 'popularity' }), error: RangeError, message: /all zero/ },
  { name: 'Sampler: seed = -1', call: () => new Sampler(matrix, { seed: -1 }), error: RangeError, message: /^seed must be an integer >= 0, got -1$/ },
  { name: 'Sampler: seed = 1.5', call: () => new Sampler(matrix, { seed: 1.5 }), error: RangeError, message: /^seed must be an integer .*got 1\.5$/ },
  { name: 'Sampler: seed = NaN', call: () => new Sampler(matrix, { seed: NaN }), error: RangeError, message: /^seed must be an integer .*got NaN$/ },
  { name: 'Sampler: seed = 2**64 (number)', call: () => new Sampler(matrix, { seed: 2 ** 64 }), error: RangeError, message: /^seed must be an integer .*got 18446744073709552000$/ },
  { name: 'Sampler: seed = 2n**64n', call: () => new Sampler(matrix, { seed: 2n ** 64n }), error: RangeError, message: /^seed must be an integer in \[0, 2\^64\), got 18446744073709551616$/ },
  { name: 'Sampler: seed = -1n', call: () => new Sampler(matrix, { seed: -1n }), error: RangeError, message: /^seed must be an integer in \[0, 2\^64\), got -1$/ },

  // user queries
  ...(['hasNegative', 'usesComplement'] as const).flatMap((method): Case[] => [
    { name: `${method}: user = -1`, call: () => sampler[method](-1), error: RangeError, message: /^user must be a non-negative safe integer, got -1$/ },
    { name: `${method}: user = numUsers`, call: () => sampler[method](4), error: RangeError, message: /^user must be an integer in \[0, 3\], got 4$/ },
    { name: `${method}: user = 0.5`, call: () => sampler[method](0.5), error: RangeError, message: /^user must be a non-negative safe integer, got 0\.5$/ },
  ]),

  // k
  ...badK.flatMap(([what, k, m]): Case[] => [
    { name: `negatives: k = ${what}`, call: () => sampler.negatives(users, k), error: RangeError, message: m },
    { name: `negativesInto: k = ${what}`, call: () => sampler.negativesInto(users, k, new Int32Array(2)), error: RangeError, message: m },
    { name: `pairwise: k = ${what}`, call: () => sampler.pairwise(users, items, k), error: RangeError, message: m },
    { name: `pairwiseInto: k = ${what}`, call: () => sampler.pairwiseInto(users, items, k, pairOut(2)), error: RangeError, message: m },
    { name: `pointwise: k = ${what}`, call: () => sampler.pointwise(users, items, k), error: RangeError, message: m },
    { name: `pointwiseInto: k = ${what}`, call: () => sampler.pointwiseInto(users, items, k, pointOut(4)), error: RangeError, message: m },
  ]),
  // users.length * k past what one Int32Array holds (no allocation must happen)
  { name: 'negatives: users.length * k > 2**31 - 1', call: () => sampler.negatives(Int32Array.of(0, 1, 0, 1), 2 ** 30), error: RangeError, message: /^k must be at most 536870911 for 4 users .*got 1073741824$/ },
  { name: 'pairwise: users.length * k > 2**31 - 1', call: () => sampler.pairwise(Int32Array.of(0, 1, 0, 1), Int32Array.of(1, 0, 1, 0), 2 ** 30), error: RangeError, message: /^k must be at most .*got 1073741824$/ },
  { name: 'pointwise: users.length * (1 + k) > 2**31 - 1', call: () => sampler.pointwise(users, items, 2 ** 30), error: RangeError, message: /^k must be at most .*got/ },

  // ids
  { name: 'negatives: negative user id', call: () => sampler.negatives(Int32Array.of(0, -1), 1), error: RangeError, message: /^users\[1\] = -1 is out of range: ids must be in \[0, 4\)/ },
  { name: 'negatives: user id >= numUsers', call: () => sampler.negatives(Int32Array.of(4), 1), error: RangeError, message: /^users\[0\] = 4 is out of range: ids must be in \[0, 4\)/ },
  { name: 'negativesInto: user id >= numUsers', call: () => sampler.negativesInto(Int32Array.of(9), 1, new Int32Array(1)), error: RangeError, message: /^users\[0\] = 9 is out of range/ },
  { name: 'pairwise: user id >= numUsers', call: () => sampler.pairwise(Int32Array.of(0, 4), items, 1), error: RangeError, message: /^users\[1\] = 4 is out of range/ },
  { name: 'pairwise: item id >= numItems', call: () => sampler.pairwise(users, Int32Array.of(6, 0), 1), error: RangeError, message: /^items\[0\] = 6 is out of range: ids must be in \[0, 6\)/ },
  { name: 'pairwise: negative item id', call: () => sampler.pairwise(users, Int32Array.of(0, -2), 1), error: RangeError, message: /^items\[1\] = -2 is out of range/ },
  { name: 'pairwiseInto: item id >= numItems', call: () => sampler.pairwiseInto(users, Int32Array.of(0, 60), 1, pairOut(2)), error: RangeError, message: /^items\[1\] = 60 is out of range/ },
  { name: 'pointwise: user id < 0', call: () => sampler.pointwise(Int32Array.of(-3, 0), items, 1), error: RangeError, message: /^users\[0\] = -3 is out of range/ },
  { name: 'pointwise: item id >= numItems', call: () => sampler.pointwise(users, Int32Array.of(0, 6), 1), error: RangeError, message: /^items\[1\] = 6 is out of range/ },
  { name: 'pointwiseInto: item id < 0', call: () => sampler.pointwiseInto(users, Int32Array.of(-1, 0), 1, pointOut(4)), error: RangeError, message: /^items\[0\] = -1 is out of range/ },
  { name: 'logProbabilities: item id >= numItems', call: () => sampler.logProbabilities(Int32Array.of(0, 6)), error: RangeError, message: /^items\[1\] = 6 is out of range: ids must be in \[0, 6\)/ },
  { name: 'logProbabilitiesInto: negative item id', call: () => sampler.logProbabilitiesInto(Int32Array.of(-1), new Float32Array(1)), error: RangeError, message: /^items\[0\] = -1 is out of range/ },

  // lengths
  { name: 'pairwise: items longer than users', call: () => sampler.pairwise(users, Int32Array.of(1, 0, 1), 1), error: RangeError, message: /^items\.length is 3, expected users\.length \(2\)/ },
  { name: 'pointwise: items shorter than users', call: () => sampler.pointwise(users, Int32Array.of(1), 1), error: RangeError, message: /^items\.length is 1, expected users\.length \(2\)/ },
  { name: 'pairwiseInto: items shorter than users', call: () => sampler.pairwiseInto(users, Int32Array.of(1), 1, pairOut(2)), error: RangeError, message: /^items\.length is 1, expected users\.length \(2\)/ },
  { name: 'negativesInto: out too short', call: () => sampler.negativesInto(users, 3, new Int32Array(5)), error: RangeError, message: /^out\.length is 5, expected .*6/ },
  { name: 'negativesInto: out too long', call: () => sampler.negativesInto(users, 1, new Int32Array(3)), error: RangeError, message: /^out\.length is 3, expected .*2/ },
  ...(['users', 'positives', 'negatives'] as const).map((key): Case => ({
    name: `pairwiseInto: out.${key} of the wrong length`,
    call: () => sampler.pairwiseInto(users, items, 2, { ...pairOut(4), [key]: new Int32Array(3) }),
    error: RangeError,
    message: new RegExp(`^out\\.${key}\\.length is 3, expected 4`),
  })),
  ...(['users', 'items'] as const).map((key): Case => ({
    name: `pointwiseInto: out.${key} of the wrong length`,
    call: () => sampler.pointwiseInto(users, items, 2, { ...pointOut(6), [key]: new Int32Array(4) }),
    error: RangeError,
    message: new RegExp(`^out\\.${key}\\.length is 4, expected 6`),
  })),
  { name: 'pointwiseInto: out.labels of the wrong length', call: () => sampler.pointwiseInto(users, items, 2, { ...pointOut(6), labels: new Float32Array(4) }), error: RangeError, message: /^out\.labels\.length is 4, expected 6/ },
  { name: 'pointwiseInto: pairwise-sized outputs', call: () => sampler.pointwiseInto(users, items, 2, pointOut(4)), error: RangeError, message: /^out\.users\.length is 4, expected 6/ },
  { name: 'logProbabilitiesInto: out of the wrong length', call: () => sampler.logProbabilitiesInto(Int32Array.of(0, 1, 2), new Float32Array(2)), error: RangeError, message: /^out\.length is 2, expected items\.length \(3\)/ },

  // shared memory
  { name: 'negativesInto: out is users', call: () => { const u = Int32Array.of(0, 1); return sampler.negativesInto(u, 1, u) }, error: RangeError, message: /^out must not share memory with users/ },
  { name: 'negativesInto: out is a subarray of users', call: () => { const u = Int32Array.of(0, 1, 0, 0); return sampler.negativesInto(u.subarray(0, 2), 1, u.subarray(1, 3)) }, error: RangeError, message: /^out must not share memory with users/ },
  { name: 'negativesInto: out and users are views of one buffer', call: () => sampler.negativesInto(new Int32Array(shared.buffer, 0, 4), 2, new Int32Array(shared.buffer, 12, 8)), error: RangeError, message: /^out must not share memory with users/ },
  { name: 'pairwiseInto: out.users is users', call: () => sampler.pairwiseInto(users, items, 1, { ...pairOut(2), users }), error: RangeError, message: /^out\.users must not share memory with users/ },
  { name: 'pairwiseInto: out.negatives is items', call: () => sampler.pairwiseInto(users, items, 1, { ...pairOut(2), negatives: items }), error: RangeError, message: /^out\.negatives must not share memory with items/ },
  { name: 'pairwiseInto: out.positives is out.negatives', call: () => { const o = pairOut(2); return sampler.pairwiseInto(users, items, 1, { ...o, positives: o.negatives }) }, error: RangeError, message: /^out\.positives must not share memory with out\.negatives/ },
  { name: 'pointwiseInto: out.items overlaps items', call: () => { const buf = Int32Array.of(1, 0, 0, 0, 0); return sampler.pointwiseInto(users, buf.subarray(0, 2), 1, { ...pointOut(4), items: buf.subarray(1, 5) }) }, error: RangeError, message: /^out\.items must not share memory with items/ },
  { name: 'pointwiseInto: out.labels is a Float32Array view of users', call: () => { const u = Int32Array.of(0, 1, 0, 1); return sampler.pointwiseInto(u.subarray(0, 2), items, 1, { ...pointOut(4), labels: new Float32Array(u.buffer) }) }, error: RangeError, message: /^out\.labels must not share memory with users/ },
  { name: 'pointwiseInto: out.users overlaps out.labels', call: () => { const buf = new ArrayBuffer(32); return sampler.pointwiseInto(users, items, 1, { ...pointOut(4), users: new Int32Array(buf, 0, 4), labels: new Float32Array(buf, 12, 4) }) }, error: RangeError, message: /^out\.users must not share memory with out\.labels/ },
  { name: 'logProbabilitiesInto: out is a view of items', call: () => { const i = Int32Array.of(0, 1); return sampler.logProbabilitiesInto(i, new Float32Array(i.buffer)) }, error: RangeError, message: /^out must not share memory with items/ },

  // a user with no possible negative
  { name: 'negatives: a user with no possible negative', call: () => sampler.negatives(Int32Array.of(0, NO_NEGATIVE), 1), error: RangeError, message: /^user 2 has no possible negative/ },
  { name: 'negativesInto: a user with no possible negative', call: () => sampler.negativesInto(Int32Array.of(NO_NEGATIVE), 2, new Int32Array(2)), error: RangeError, message: /^user 2 has no possible negative/ },
  { name: 'pairwise: a user with no possible negative', call: () => sampler.pairwise(Int32Array.of(1, NO_NEGATIVE), Int32Array.of(0, 4), 1), error: RangeError, message: /^user 2 has no possible negative/ },
  { name: 'pairwiseInto: a user with no possible negative', call: () => sampler.pairwiseInto(Int32Array.of(NO_NEGATIVE, 1), Int32Array.of(4, 0), 1, pairOut(2)), error: RangeError, message: /^user 2 has no possible negative/ },
  { name: 'pointwise: a user with no possible negative', call: () => sampler.pointwise(Int32Array.of(NO_NEGATIVE), Int32Array.of(4), 3), error: RangeError, message: /^user 2 has no possible negative/ },
  { name: 'pointwiseInto: a user with no possible negative', call: () => sampler.pointwiseInto(Int32Array.of(NO_NEGATIVE), Int32Array.of(4), 1, pointOut(2)), error: RangeError, message: /^user 2 has no possible negative/ },
  { name: 'weights: a user whose positives hold every positive weight', call: () => new Sampler(matrix, { weights: Float64Array.of(0, 1, 0, 1, 0, 0), seed: 1 }).negatives(Int32Array.of(1, 3, 0), 1), error: RangeError, message: /^user 0 has no possible negative/ },

  // epoch and batchesPerEpoch
  { name: 'batchesPerEpoch: batchSize = 0', call: () => sampler.batchesPerEpoch(0), error: RangeError, message: /^batchSize must be an integer >= 1, got 0$/ },
  { name: 'batchesPerEpoch: batchSize = 2.5', call: () => sampler.batchesPerEpoch(2.5), error: RangeError, message: /^batchSize must be an integer >= 1, got 2\.5$/ },
  { name: 'epoch: batchSize = 0', call: () => sampler.epoch({ batchSize: 0 }), error: RangeError, message: /^options\.batchSize must be an integer >= 1, got 0$/ },
  { name: 'epoch: batchSize = -4', call: () => sampler.epoch({ batchSize: -4 }), error: RangeError, message: /^options\.batchSize must be a non-negative safe integer, got -4$/ },
  { name: 'epoch: batchSize = NaN', call: () => sampler.epoch({ batchSize: NaN }), error: RangeError, message: /^options\.batchSize must be a non-negative safe integer, got NaN$/ },
  { name: 'epoch: negatives = 0', call: () => sampler.epoch({ batchSize: 4, negatives: 0 }), error: RangeError, message: /^options\.negatives must be an integer >= 1, got 0$/ },
  { name: 'epoch: negatives = 1.5', call: () => sampler.epoch({ batchSize: 4, negatives: 1.5 }), error: RangeError, message: /^options\.negatives must be a non-negative safe integer, got 1\.5$/ },
  { name: 'epoch: negatives = 2**40', call: () => sampler.epoch({ batchSize: 4, negatives: 2 ** 40 }), error: RangeError, message: /^options\.negatives must be at most \d+ for 4 users .*got 1099511627776$/ },
  { name: 'epoch: unknown shape', call: () => sampler.epoch({ batchSize: 4, shape: any('listwise') }), error: RangeError, message: /^options\.shape must be 'pairwise' or 'pointwise', got string "listwise"/ },
  { name: 'epoch: a user with positives but no possible negative, when its batch is reached', call: () => [...sampler.epoch({ batchSize: 100 })], error: RangeError, message: /^user 2 has no possible negative/ },
]

describe('TypeError for wrong JavaScript types', () => {
  it.each(typeCases)('$name', (c) => expectThrow(c))
})

describe('RangeError for wrong values', () => {
  it.each(rangeCases)('$name', (c) => expectThrow(c))
})

const asyncCases: AsyncCase[] = [
  // types
  ...notInt32.flatMap(([what, v, m]): AsyncCase[] => [
    { name: `negativesAsync: users is ${what}`, call: () => sampler.negativesAsync(any(v), 1), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `pairwiseAsync: users is ${what}`, call: () => sampler.pairwiseAsync(any(v), items, 1), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `pairwiseAsync: items is ${what}`, call: () => sampler.pairwiseAsync(users, any(v), 1), error: TypeError, message: new RegExp(`^items must be an Int32Array, ${m.source}`) },
    { name: `pointwiseAsync: users is ${what}`, call: () => sampler.pointwiseAsync(any(v), items, 1), error: TypeError, message: new RegExp(`^users must be an Int32Array, ${m.source}`) },
    { name: `pointwiseAsync: items is ${what}`, call: () => sampler.pointwiseAsync(users, any(v), 1), error: TypeError, message: new RegExp(`^items must be an Int32Array, ${m.source}`) },
  ]),
  ...notNumber.flatMap(([what, v, m]): AsyncCase[] => [
    { name: `negativesAsync: k is ${what}`, call: () => sampler.negativesAsync(users, any(v)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
    { name: `pairwiseAsync: k is ${what}`, call: () => sampler.pairwiseAsync(users, items, any(v)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
    { name: `pointwiseAsync: k is ${what}`, call: () => sampler.pointwiseAsync(users, items, any(v)), error: TypeError, message: new RegExp(`^k must be a number, ${m.source}`) },
  ]),
  { name: 'pairwiseAsync: options is null', call: () => sampler.pairwiseAsync(users, items, 1, any(null)), error: TypeError, message: /^options must be an object, got null/ },
  // values
  ...badK.flatMap(([what, k, m]): AsyncCase[] => [
    { name: `negativesAsync: k = ${what}`, call: () => sampler.negativesAsync(users, k), error: RangeError, message: m },
    { name: `pairwiseAsync: k = ${what}`, call: () => sampler.pairwiseAsync(users, items, k), error: RangeError, message: m },
    { name: `pointwiseAsync: k = ${what}`, call: () => sampler.pointwiseAsync(users, items, k), error: RangeError, message: m },
  ]),
  { name: 'negativesAsync: users.length * k > 2**31 - 1', call: () => sampler.negativesAsync(Int32Array.of(0, 1, 0, 1), 2 ** 30), error: RangeError, message: /^k must be at most .*got 1073741824$/ },
  { name: 'negativesAsync: user id >= numUsers', call: () => sampler.negativesAsync(Int32Array.of(0, 4), 1), error: RangeError, message: /^users\[1\] = 4 is out of range: ids must be in \[0, 4\)/ },
  { name: 'negativesAsync: negative user id', call: () => sampler.negativesAsync(Int32Array.of(-1), 1), error: RangeError, message: /^users\[0\] = -1 is out of range/ },
  { name: 'pairwiseAsync: user id >= numUsers', call: () => sampler.pairwiseAsync(Int32Array.of(7, 0), items, 1), error: RangeError, message: /^users\[0\] = 7 is out of range/ },
  { name: 'pairwiseAsync: item id >= numItems', call: () => sampler.pairwiseAsync(users, Int32Array.of(0, 6), 1), error: RangeError, message: /^items\[1\] = 6 is out of range: ids must be in \[0, 6\)/ },
  { name: 'pointwiseAsync: negative item id', call: () => sampler.pointwiseAsync(users, Int32Array.of(-1, 0), 1), error: RangeError, message: /^items\[0\] = -1 is out of range/ },
  { name: 'pairwiseAsync: lengths differ', call: () => sampler.pairwiseAsync(users, Int32Array.of(0), 1), error: RangeError, message: /^items\.length is 1, expected users\.length \(2\)/ },
  { name: 'pointwiseAsync: lengths differ', call: () => sampler.pointwiseAsync(Int32Array.of(0), items, 1), error: RangeError, message: /^items\.length is 2, expected users\.length \(1\)/ },
  { name: 'negativesAsync: a user with no possible negative', call: () => sampler.negativesAsync(Int32Array.of(0, 1, NO_NEGATIVE), 2), error: RangeError, message: /^user 2 has no possible negative/ },
  { name: 'pairwiseAsync: a user with no possible negative', call: () => sampler.pairwiseAsync(Int32Array.of(NO_NEGATIVE), Int32Array.of(5), 1), error: RangeError, message: /^user 2 has no possible negative/ },
  { name: 'pointwiseAsync: a user with no possible negative', call: () => sampler.pointwiseAsync(Int32Array.of(NO_NEGATIVE), Int32Array.of(5), 1), error: RangeError, message: /^user 2 has no possible negative/ },
]

describe('async forms reject (never throw) with the right class', () => {
  it.each(asyncCases)('$name', async (c) => expectReject(c))
})

describe('nothing is written into an out buffer when the call throws', () => {
  interface WriteCase {
    name: string
    /** Makes fresh outputs (filled with SENTINEL) and the call that must throw. */
    setup: () => { outputs: (Int32Array | Float32Array)[]; call: () => unknown }
  }

  const cases: WriteCase[] = [
    ...(
      [
        ['a user with no possible negative', Int32Array.of(0, NO_NEGATIVE), 2, 4],
        ['a user id out of range', Int32Array.of(0, 4), 2, 4],
        ['out of the wrong length', Int32Array.of(0, 1), 2, 5],
        ['k = 0', Int32Array.of(0, 1), 0, 2],
        ['k = 1.5', Int32Array.of(0, 1), 1.5, 3],
      ] as [string, Int32Array, number, number][]
    ).map(([what, u, k, len]): WriteCase => ({
      name: `negativesInto: ${what}`,
      setup: () => {
        const out = new Int32Array(len).fill(SENTINEL)
        return { outputs: [out], call: () => sampler.negativesInto(u, k, out) }
      },
    })),
    {
      name: 'negativesInto: out overlapping users',
      setup: () => {
        // users = [0, 1], out = [1, SENTINEL]: the users' memory must not change either.
        const buffer = Int32Array.of(0, 1, SENTINEL)
        return { outputs: [buffer], call: () => sampler.negativesInto(buffer.subarray(0, 2), 1, buffer.subarray(1, 3)) }
      },
    },
    ...(
      [
        ['a user with no possible negative', Int32Array.of(1, NO_NEGATIVE), Int32Array.of(0, 0), 2, 4],
        ['an item id out of range', Int32Array.of(0, 1), Int32Array.of(1, 6), 2, 4],
        ['a user id out of range', Int32Array.of(0, 5), Int32Array.of(1, 0), 2, 4],
        ['items of the wrong length', Int32Array.of(0, 1), Int32Array.of(1), 2, 4],
        ['k = NaN', Int32Array.of(0, 1), Int32Array.of(1, 0), NaN, 4],
      ] as [string, Int32Array, Int32Array, number, number][]
    ).flatMap(([what, u, i, k, rows]): WriteCase[] => [
      {
        name: `pairwiseInto: ${what}`,
        setup: () => {
          const out = pairOut(rows)
          return { outputs: [out.users, out.positives, out.negatives], call: () => sampler.pairwiseInto(u, i, k, out) }
        },
      },
      {
        name: `pointwiseInto: ${what}`,
        setup: () => {
          const out = pointOut(rows + 2)
          return { outputs: [out.users, out.items, out.labels], call: () => sampler.pointwiseInto(u, i, k, out) }
        },
      },
    ]),
    ...(['users', 'positives', 'negatives'] as const).map((key): WriteCase => ({
      name: `pairwiseInto: out.${key} of the wrong length (the other outputs untouched)`,
      setup: () => {
        const out = { ...pairOut(4), [key]: new Int32Array(5).fill(SENTINEL) }
        return { outputs: [out.users, out.positives, out.negatives], call: () => sampler.pairwiseInto(users, items, 2, out) }
      },
    })),
    ...(['users', 'items'] as const).map((key): WriteCase => ({
      name: `pointwiseInto: out.${key} of the wrong length (the other outputs untouched)`,
      setup: () => {
        const out = { ...pointOut(6), [key]: new Int32Array(7).fill(SENTINEL) }
        return { outputs: [out.users, out.items, out.labels], call: () => sampler.pointwiseInto(users, items, 2, out) }
      },
    })),
    {
      name: 'pointwiseInto: out.labels of the wrong length (the other outputs untouched)',
      setup: () => {
        const out = { ...pointOut(6), labels: new Float32Array(5).fill(SENTINEL) }
        return { outputs: [out.users, out.items, out.labels], call: () => sampler.pointwiseInto(users, items, 2, out) }
      },
    },
    {
      name: 'pairwiseInto: out.negatives shares memory with out.positives',
      setup: () => {
        const out = pairOut(2)
        out.negatives = out.positives
        return { outputs: [out.users, out.positives], call: () => sampler.pairwiseInto(users, items, 1, out) }
      },
    },
    {
      name: 'logProbabilitiesInto: an item id out of range',
      setup: () => {
        const out = new Float32Array(3).fill(SENTINEL)
        return { outputs: [out], call: () => sampler.logProbabilitiesInto(Int32Array.of(0, 1, 6), out) }
      },
    },
  ]

  it.each(cases)('$name', ({ setup }) => {
    const { outputs, call } = setup()
    const before = outputs.map((o) => o.slice())
    expect(call).toThrow(RangeError)
    outputs.forEach((o, j) => expect(o).toEqual(before[j]))
  })

  // Regression: the optional log-prob output (out.negativeLogProbs /
  // out.logProbs) used to be checked only after the native call had written
  // the other outputs (and taken a call number).
  it('pairwiseInto: out.negativeLogProbs of the wrong length leaves every output untouched', () => {
    const out: PairwiseBatch = { ...pairOut(2), negativeLogProbs: new Float32Array(1).fill(SENTINEL) }
    const calls = sampler.calls
    expect(() => sampler.pairwiseInto(users, items, 1, out)).toThrow(RangeError)
    expect(sampler.calls).toBe(calls)
    expect(out.users).toEqual(new Int32Array(2).fill(SENTINEL))
    expect(out.positives).toEqual(new Int32Array(2).fill(SENTINEL))
    expect(out.negatives).toEqual(new Int32Array(2).fill(SENTINEL))
  })

  it('pairwiseInto: out.negativeLogProbs of the wrong type leaves every output untouched', () => {
    const out: PairwiseBatch = { ...pairOut(2), negativeLogProbs: any(new Float64Array(2)) }
    expect(() => sampler.pairwiseInto(users, items, 1, out)).toThrow(TypeError)
    expect(out.negatives).toEqual(new Int32Array(2).fill(SENTINEL))
  })

  it('pointwiseInto: out.logProbs of the wrong length leaves every output untouched', () => {
    const out: PointwiseBatch = { ...pointOut(4), logProbs: new Float32Array(3).fill(SENTINEL) }
    expect(() => sampler.pointwiseInto(users, items, 1, out)).toThrow(RangeError)
    expect(out.items).toEqual(new Int32Array(4).fill(SENTINEL))
    expect(out.labels).toEqual(new Float32Array(4).fill(SENTINEL))
  })
})

describe('a missing out object', () => {
  it('pairwiseInto / pointwiseInto with out undefined throw a TypeError', () => {
    expect(() => sampler.pairwiseInto(users, items, 1, any(undefined))).toThrow(TypeError)
    expect(() => sampler.pointwiseInto(users, items, 1, any(undefined))).toThrow(TypeError)
  })

  // Regression: `out = undefined` used to fail with "Cannot read properties of
  // undefined (reading 'users')", which does not name the argument.
  it('pairwiseInto names out when it is undefined', () => {
    expect(() => sampler.pairwiseInto(users, items, 1, any(undefined))).toThrow(/^out must be an object, got undefined/)
  })

  it('pointwiseInto names out when it is undefined', () => {
    expect(() => sampler.pointwiseInto(users, items, 1, any(undefined))).toThrow(/^out must be an object, got undefined/)
  })
})

describe('messages of the optional log-prob outputs', () => {
  // Regression: these checks used to be delegated to logProbabilitiesInto,
  // whose messages named its own parameters ("out"), not the caller's.
  it('pairwiseInto names out.negativeLogProbs when it has the wrong length', () => {
    const out: PairwiseBatch = { ...pairOut(2), negativeLogProbs: new Float32Array(1) }
    expect(() => sampler.pairwiseInto(users, items, 1, out)).toThrow(/out\.negativeLogProbs/)
  })

  it('pointwiseInto names out.logProbs when it is not a Float32Array', () => {
    const out: PointwiseBatch = { ...pointOut(4), logProbs: any([0, 0, 0, 0]) }
    expect(() => sampler.pointwiseInto(users, items, 1, out)).toThrow(/out\.logProbs/)
  })
})

describe('a call that throws takes no call number (README: "writes nothing and draws nothing")', () => {
  const cases: [string, (s: Sampler) => unknown][] = [
    ['bad k', (s) => s.negatives(users, 0)],
    ['user id out of range', (s) => s.negatives(Int32Array.of(9), 1)],
    ['out sharing memory with users', (s) => s.negativesInto(users, 1, users)],
    ['wrong type', (s) => s.pairwise(users, any([0, 1]), 1)],
    ['a user with no possible negative', (s) => s.negatives(Int32Array.of(NO_NEGATIVE), 1)],
    ['item id out of range', (s) => s.pairwise(users, Int32Array.of(0, 6), 1)],
    ['items of the wrong length', (s) => s.pointwise(users, Int32Array.of(0), 1)],
    ['out of the wrong length', (s) => s.negativesInto(users, 1, new Int32Array(3))],
    ['out.labels of the wrong length', (s) => s.pointwiseInto(users, items, 1, { ...pointOut(4), labels: new Float32Array(3) })],
    ['users.length * k too large', (s) => s.negatives(Int32Array.of(0, 1, 0, 1), 2 ** 30)],
  ]
  it.each(cases)('%s', (_, call) => {
    const s = new Sampler(matrix, { seed: 5 })
    const reference = new Sampler(matrix, { seed: 5 })
    expect(() => call(s)).toThrow()
    expect(s.calls).toBe(0)
    expect(s.negatives(users, 4)).toEqual(reference.negatives(users, 4))
  })

  const asyncCases: [string, (s: Sampler) => Promise<unknown>][] = [
    ['negativesAsync: a user with no possible negative', (s) => s.negativesAsync(Int32Array.of(NO_NEGATIVE), 1)],
    ['pairwiseAsync: item id out of range', (s) => s.pairwiseAsync(users, Int32Array.of(0, 6), 1)],
    ['pointwiseAsync: bad k', (s) => s.pointwiseAsync(users, items, 0)],
  ]
  it.each(asyncCases)('%s', async (_, call) => {
    const s = new Sampler(matrix, { seed: 5 })
    const reference = new Sampler(matrix, { seed: 5 })
    await expect(call(s)).rejects.toThrow(RangeError)
    expect(s.calls).toBe(0)
    expect(await s.negativesAsync(users, 4)).toEqual(reference.negatives(users, 4))
  })
})
