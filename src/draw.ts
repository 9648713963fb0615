/**
 * The draw calls of a `Sampler` and a `Shard`, written once, and the batches they return. Each public form of
 * `negatives`, `pairwise` and `pointwise` (fresh, `...Into`, `...Async`) is a one-line call of
 * these. They check JavaScript types; the engine checks every value (ranges, lengths, ids,
 * overlapping buffers) before anything is drawn or written.
 *
 * @module
 */
import {
  batchInto as nativeBatchInto,
  draw as nativeDraw,
  drawAsync as nativeDrawAsync,
  type NativeSampler,
  type NativeShard,
} from '../native/index.js'
import { describe, expectFloat32Array, expectInt32Array, expectObject, expectOptions, native, nativeAsync } from './errors'

/** Per-call options of the batch methods. */
export interface BatchOptions {
  /** Also return the natural log of the proposal probability of each sampled item (for logQ corrections). */
  logProbs?: boolean
}

/** A pairwise (BPR) batch: row `j` is `(users[j], positives[j], negatives[j])`. */
export interface PairwiseBatch {
  /** The user of each row. */
  users: Int32Array
  /** The positive item of each row. */
  positives: Int32Array
  /** A sampled negative of the row's user: never one of its positives. */
  negatives: Int32Array
  /** With `logProbs: true`: log proposal probability of each negative. */
  negativeLogProbs?: Float32Array
}

/** A pointwise batch: each positive (label 1) followed by its `k` negatives (label 0). */
export interface PointwiseBatch {
  /** The user of each row. */
  users: Int32Array
  /** The item of each row. */
  items: Int32Array
  /** 1 for a positive, 0 for a negative. */
  labels: Float32Array
  /** With `logProbs: true`: log proposal probability of each row's item. */
  logProbs?: Float32Array
}

/** What draws: a sampler, or a shard (its own streams, the sampler's proposal). */
export type Source = NativeSampler | NativeShard

/** The two batch layouts. */
export type BatchShape = 'pairwise' | 'pointwise'

type Batch = PairwiseBatch | PointwiseBatch

/** `ln q` of each item, as {@link Sampler.logProbabilities}. */
export type LogProbabilities = (items: Int32Array) => Float32Array

/** A batch layout: its three arrays (the last is Float32 for labels), its ln q array and what it holds. */
const LAYOUTS = {
  pairwise: { arrays: ['users', 'positives', 'negatives'], floatLast: false, logProbs: 'negativeLogProbs', drawn: 'negatives' },
  pointwise: { arrays: ['users', 'items', 'labels'], floatLast: true, logProbs: 'logProbs', drawn: 'items' },
} as const

/** `k` as a number (the engine checks its range). */
export function negativesPerPositive(k: unknown): number {
  if (typeof k !== 'number') throw new TypeError(`k must be a number, got ${describe(k)}`)
  return k
}

/** `k` negatives for each user, in a fresh array. */
export function negatives(source: Source, users: Int32Array, k: number): Int32Array {
  expectInt32Array('users', users)
  const count = negativesPerPositive(k)
  return native(() => nativeDraw(source, users, null, count, 'negatives')) as Int32Array
}

/** As {@link negatives}, off the JavaScript thread. */
export async function negativesAsync(source: Source, users: Int32Array, k: number): Promise<Int32Array> {
  expectInt32Array('users', users)
  const count = negativesPerPositive(k)
  return (await nativeAsync(() => nativeDrawAsync(source, users, null, count, 'negatives'))) as Int32Array
}

function checkBatch(users: unknown, items: unknown, options: unknown): void {
  expectInt32Array('users', users)
  expectInt32Array('items', items)
  expectOptions('options', options)
}

/** A batch call: what to draw and how to complete the result. */
export interface BatchRequest {
  shape: BatchShape
  users: Int32Array
  items: Int32Array
  k: number
  options: BatchOptions
  /** `ln q` of the drawn items, for `options.logProbs`. */
  logProbabilities: LogProbabilities
}

function checked(request: BatchRequest): number {
  checkBatch(request.users, request.items, request.options)
  return negativesPerPositive(request.k)
}

function completed<B extends Batch>(request: BatchRequest, batch: B): B {
  if (request.options.logProbs) {
    const layout = LAYOUTS[request.shape]
    const record = batch as unknown as Record<string, Int32Array | Float32Array>
    record[layout.logProbs] = request.logProbabilities(record[layout.drawn] as Int32Array)
  }
  return batch
}

/** A batch in fresh arrays. */
export function batch<B extends Batch>(source: Source, request: BatchRequest): B {
  const { shape, users, items } = request
  const count = checked(request)
  return completed(request, native(() => nativeDraw(source, users, items, count, shape)) as B)
}

/** As {@link batch}, off the JavaScript thread (inputs copied when called). */
export async function batchAsync<B extends Batch>(source: Source, request: BatchRequest): Promise<B> {
  const { shape, users, items } = request
  const count = checked(request)
  return completed(request, (await nativeAsync(() => nativeDrawAsync(source, users, items, count, shape))) as B)
}

/** A batch of `shape` into the caller's arrays (and its ln q array, when present); returns `out`. */
export function batchInto<B extends Batch>(
  source: Source,
  shape: BatchShape,
  users: Int32Array,
  items: Int32Array,
  k: number,
  out: B,
): B {
  checkBatch(users, items, {})
  const count = negativesPerPositive(k)
  expectObject('out', out)
  const layout = LAYOUTS[shape]
  const record = out as unknown as Record<string, unknown>
  const [first, second, last] = layout.arrays
  expectInt32Array(`out.${first}`, record[first])
  expectInt32Array(`out.${second}`, record[second])
  if (layout.floatLast) expectFloat32Array(`out.${last}`, record[last])
  else expectInt32Array(`out.${last}`, record[last])
  const logProbs = record[layout.logProbs]
  if (logProbs !== undefined) expectFloat32Array(`out.${layout.logProbs}`, logProbs)
  native(() =>
    nativeBatchInto(
      source,
      users,
      items,
      count,
      record[first] as Int32Array,
      record[second] as Int32Array,
      record[last] as Int32Array | Float32Array,
      logProbs as Float32Array | undefined,
    ),
  )
  return out
}
