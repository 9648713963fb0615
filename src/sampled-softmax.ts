import {
  accidentalHitsInto as nativeHitsInto,
  hitsAsync as nativeHitsAsync,
  inBatchHitsInto as nativeInBatchInto,
  sampledSoftmax as nativeSampledSoftmax,
  sampledSoftmaxAsync as nativeSampledSoftmaxAsync,
  type NativeInteractions,
} from '../native/index.js'
import { describe, expectFloat32Array, expectInt32Array, expectNumber, expectOptions, native, nativeAsync } from './errors'
import { nativeInteractions, type Interactions } from './interactions'
import { nativeSampler, type Sampler } from './sampler'

/** Options of {@link sampledSoftmax}. */
export interface SampledSoftmaxOptions {
  /** Shared candidates to draw for the batch (`S`). */
  numSampled: number
  /**
   * `false` (default): `S` independent draws from the proposal (duplicates possible).
   * `true`: draws until `S` distinct items have been seen (at most the number of items with a
   * positive proposal probability), as TensorFlow's candidate samplers do with `unique=True`.
   */
  unique?: boolean
  /** The user of each positive: also return the accidental-hit mask (`hits`). */
  users?: Int32Array
  /** Spread the mask over all cores (default true; same output). */
  parallel?: boolean
}

/**
 * A batch's shared sampled-softmax candidates and the corrections a loss needs.
 *
 * Expected counts follow TensorFlow's candidate samplers (`RangeSampler`'s `ExpectedCountHelper`):
 * `S * q` when `numTries === S` (always without `unique`), else `1 - (1 - q) ** numTries`.
 */
export interface SampledSoftmaxResult {
  /** The `S` candidates, shared by every row of the batch. */
  candidates: Int32Array
  /** `ln q` of each candidate under the proposal (the logQ correction of Yi et al. 2019). */
  candidateLogQ: Float32Array
  /** Expected count of each candidate (subtract its log from the logit for sampled softmax). */
  candidateExpectedCounts: Float32Array
  /** `ln q` of each positive. */
  positiveLogQ: Float32Array
  /** Expected count of each positive. */
  positiveExpectedCounts: Float32Array
  /** Draws made: `S` without `unique`, `>= S` with it. */
  numTries: number
  /**
   * With `users`: the accidental-hit mask, `positives.length` rows by `S` columns, row-major:
   * 1 where the candidate is a training positive of the row's user (checked against the
   * interaction matrix, not only the row's own item) or the row's positive, else 0.
   */
  hits?: Float32Array
}

function samplerHandle(sampler: unknown) {
  const handle = nativeSampler(sampler)
  if (handle === undefined) throw new TypeError(`sampler must be a Sampler, got ${describe(sampler)}`)
  return handle
}

function matrixHandle(interactions: unknown): NativeInteractions {
  const handle = nativeInteractions(interactions as Interactions)
  if (handle === undefined) throw new TypeError(`interactions must be an Interactions, got ${describe(interactions)}`)
  return handle
}

function softmaxArgs(positives: unknown, options: unknown): SampledSoftmaxOptions {
  expectInt32Array('positives', positives)
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`options must be an object with numSampled, got ${describe(options)}`)
  }
  const o = options as SampledSoftmaxOptions
  expectNumber('options.numSampled', o.numSampled)
  if (o.unique !== undefined && typeof o.unique !== 'boolean') {
    throw new TypeError(`options.unique must be a boolean, got ${describe(o.unique)}`)
  }
  if (o.users !== undefined) expectInt32Array('options.users', o.users)
  if (o.parallel !== undefined && typeof o.parallel !== 'boolean') {
    throw new TypeError(`options.parallel must be a boolean, got ${describe(o.parallel)}`)
  }
  return o
}

function result(r: SampledSoftmaxResult): SampledSoftmaxResult {
  const out: SampledSoftmaxResult = {
    candidates: r.candidates,
    candidateLogQ: r.candidateLogQ,
    candidateExpectedCounts: r.candidateExpectedCounts,
    positiveLogQ: r.positiveLogQ,
    positiveExpectedCounts: r.positiveExpectedCounts,
    numTries: r.numTries,
  }
  if (r.hits) out.hits = r.hits
  return out
}

/**
 * Draws a batch's shared candidates from the sampler's proposal for sampled softmax, with
 * `ln q` and TensorFlow's expected counts for the candidates and for the batch's positives,
 * and (with `users`) the accidental-hit mask. Takes one call number of the sampler.
 *
 * Cost: `S` alias draws (about as many more with `unique`; a unique draw never spins: once
 * the drawn items hold half the proposal mass, the rest come from the remainder directly),
 * plus the mask (see {@link accidentalHits}).
 *
 * @throws TypeError on wrong argument types.
 * @throws RangeError if `numSampled` is not an integer >= 1 (or, with `unique`, more than the
 *   items the proposal can draw), an id is out of range, or `users` and `positives` differ in length.
 */
export function sampledSoftmax(sampler: Sampler, positives: Int32Array, options: SampledSoftmaxOptions): SampledSoftmaxResult {
  const handle = samplerHandle(sampler)
  const o = softmaxArgs(positives, options)
  return result(native(() => nativeSampledSoftmax(handle, positives, o)))
}

/** As {@link sampledSoftmax}, computed off the JavaScript thread (inputs copied when called). */
export async function sampledSoftmaxAsync(
  sampler: Sampler,
  positives: Int32Array,
  options: SampledSoftmaxOptions,
): Promise<SampledSoftmaxResult> {
  const handle = samplerHandle(sampler)
  const o = softmaxArgs(positives, options)
  return result(await nativeAsync(() => nativeSampledSoftmaxAsync(handle, positives, o)))
}

/** Options of {@link accidentalHits}. */
export interface AccidentalHitsOptions {
  /** Each row's own positive: also marked as a hit wherever it is among the candidates. */
  positives?: Int32Array
}

/**
 * The accidental-hit mask for shared candidates: `users.length` rows by `candidates.length`
 * columns, row-major, 1 where `candidates[s]` is a training positive of `users[r]` in
 * `interactions` (or equals `options.positives[r]`), else 0. Add `mask * -1e9` (or similar) to
 * the logits so that no row treats one of its own positives as a negative.
 *
 * Cost: one sort of the candidates, then per row `O(min(r log S, r + S))` for a user with `r`
 * positives; rows run on all cores for large masks.
 *
 * @throws TypeError on wrong argument types.
 * @throws RangeError if an id is out of range, `positives` is not as long as `users`, or the
 *   mask would exceed 2^31 - 1 entries.
 */
export function accidentalHits(
  interactions: Interactions,
  users: Int32Array,
  candidates: Int32Array,
  options: AccidentalHitsOptions = {},
): Float32Array {
  const out = new Float32Array(maskSize(users, candidates))
  return accidentalHitsInto(interactions, users, candidates, out, options)
}

/** As {@link accidentalHits}, into `out` (`users.length * candidates.length`); returns `out`. */
export function accidentalHitsInto(
  interactions: Interactions,
  users: Int32Array,
  candidates: Int32Array,
  out: Float32Array,
  options: AccidentalHitsOptions = {},
): Float32Array {
  const handle = matrixHandle(interactions)
  expectInt32Array('users', users)
  expectInt32Array('candidates', candidates)
  expectFloat32Array('out', out)
  expectOptions('options', options)
  if (options.positives !== undefined) expectInt32Array('options.positives', options.positives)
  native(() => nativeHitsInto(handle, users, candidates, options.positives, out))
  return out
}

/** As {@link accidentalHits}, computed off the JavaScript thread (inputs copied when called). */
export async function accidentalHitsAsync(
  interactions: Interactions,
  users: Int32Array,
  candidates: Int32Array,
  options: AccidentalHitsOptions = {},
): Promise<Float32Array> {
  const handle = matrixHandle(interactions)
  expectInt32Array('users', users)
  expectInt32Array('candidates', candidates)
  expectOptions('options', options)
  if (options.positives !== undefined) expectInt32Array('options.positives', options.positives)
  return nativeAsync(() => nativeHitsAsync(handle, users, candidates, options.positives))
}

/**
 * The accidental-hit mask for in-batch negatives: `users.length` rows by `users.length`
 * columns, 1 at `(r, c)` where `c !== r` and `items[c]` is a training positive of `users[r]`
 * (or the same item as `items[r]`); 0 on the diagonal, which is each row's label.
 *
 * @throws TypeError / RangeError as {@link accidentalHits}, and if `items` is not as long as `users`.
 */
export function inBatchHits(interactions: Interactions, users: Int32Array, items: Int32Array): Float32Array {
  const out = new Float32Array(maskSize(users, users))
  return inBatchHitsInto(interactions, users, items, out)
}

/** As {@link inBatchHits}, into `out` (`users.length ** 2`); returns `out`. */
export function inBatchHitsInto(interactions: Interactions, users: Int32Array, items: Int32Array, out: Float32Array): Float32Array {
  const handle = matrixHandle(interactions)
  expectInt32Array('users', users)
  expectInt32Array('items', items)
  expectFloat32Array('out', out)
  native(() => nativeInBatchInto(handle, users, items, out))
  return out
}

/** As {@link inBatchHits}, computed off the JavaScript thread (inputs copied when called). */
export async function inBatchHitsAsync(interactions: Interactions, users: Int32Array, items: Int32Array): Promise<Float32Array> {
  const handle = matrixHandle(interactions)
  expectInt32Array('users', users)
  expectInt32Array('items', items)
  return nativeAsync(() => nativeHitsAsync(handle, users, undefined, items))
}

function maskSize(rows: unknown, columns: unknown): number {
  expectInt32Array('users', rows)
  const n = (rows as Int32Array).length * (ArrayBuffer.isView(columns) ? (columns as Int32Array).length : 0)
  if (n > 2 ** 31 - 1) {
    throw new RangeError(`rows * candidates must be at most ${2 ** 31 - 1} mask entries, got ${n}`)
  }
  return n
}
