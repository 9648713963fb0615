/**
 * The epoch generators of {@link Sampler.epoch} and {@link HardNegatives.epoch}: the checks of
 * their shared options, and the loop that cuts an epoch's shuffled positives into batches.
 */
import { describe, expectInteger } from './errors'

/** The options every epoch generator takes (its `logProbs` aside). */
export interface EpochShape {
  /** Positives per batch (the last batch may be smaller unless `dropLast`). */
  batchSize: number
  /** Negatives per positive (`k`). Default 1. */
  negatives?: number
  /** Batch layout. Default `'pairwise'`. */
  shape?: 'pairwise' | 'pointwise'
  /** Skip the last batch if it has fewer than `batchSize` positives. Default false. */
  dropLast?: boolean
}

/** An epoch's options, checked, with their defaults filled in. */
export interface EpochPlan {
  batchSize: number
  k: number
  shape: 'pairwise' | 'pointwise'
  dropLast: boolean
}

/**
 * Checks an epoch's options in a fixed order (the object, `batchSize`, `negatives` up to
 * `maxK`, then at most `candidates` if given, `shape`).
 *
 * @throws TypeError if `options` is not an object or a value has the wrong type.
 * @throws RangeError for a value out of range, naming it.
 */
export function epochPlan(options: EpochShape, maxK: number, candidates?: number): EpochPlan {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object with a batchSize, got ${describe(options)}`)
  }
  const batchSize = expectInteger('options.batchSize', options.batchSize, 1)
  const k = options.negatives === undefined ? 1 : expectInteger('options.negatives', options.negatives, 1, maxK)
  if (candidates !== undefined && k > candidates) {
    throw new RangeError(`options.negatives must be at most candidates (${candidates}), got ${k}`)
  }
  const shape = options.shape ?? 'pairwise'
  if (shape !== 'pairwise' && shape !== 'pointwise') {
    throw new RangeError(`options.shape must be 'pairwise' or 'pointwise', got ${describe(shape)}`)
  }
  return { batchSize, k, shape, dropLast: options.dropLast ?? false }
}

/** Yields `batch(users, items)` for each of the first `batches` runs of `batchSize` positives (views, not copies). */
export function* epochBatches<T>(
  users: Int32Array,
  items: Int32Array,
  batchSize: number,
  batches: number,
  batch: (users: Int32Array, items: Int32Array) => T,
): Generator<T, void, undefined> {
  for (let b = 0; b < batches; b++) {
    const start = b * batchSize
    yield batch(users.subarray(start, start + batchSize), items.subarray(start, start + batchSize))
  }
}
