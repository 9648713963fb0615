/**
 * The epoch generators of {@link Sampler.epoch} and {@link HardNegatives.epoch}: the checks of
 * their shared options, and the loop that cuts an epoch's shuffled positives into batches.
 */
import type { NativeEpoch } from '../native/index.js'
import { describe, expectNumber, native } from './errors'

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
 * An epoch's options with their defaults, their JavaScript types checked (the object,
 * `batchSize`, `negatives`, `shape`); the engine checks their values when the epoch starts.
 *
 * @throws TypeError if `options` is not an object or a value has the wrong type.
 * @throws RangeError for an unknown `shape`.
 */
export function epochPlan(options: EpochShape): EpochPlan {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object with a batchSize, got ${describe(options)}`)
  }
  const batchSize = expectNumber('options.batchSize', options.batchSize)
  const k = options.negatives === undefined ? 1 : expectNumber('options.negatives', options.negatives)
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

/** The batches of a native epoch, as the batch types of the public API. */
interface Pairwise {
  users: Int32Array
  positives: Int32Array
  negatives: Int32Array
  negativeLogProbs?: Float32Array
}
interface Pointwise {
  users: Int32Array
  items: Int32Array
  labels: Float32Array
  logProbs?: Float32Array
}

/**
 * Rows that one native call fills: runs of whole batches up to this size go to the engine at
 * once, so the per-call cost is paid once per run, and a sampler with several threads shares
 * a run's batches out (waking the helpers pays off from a few hundred thousand rows). The
 * output does not depend on it.
 */
function runRows(threads: number): number {
  return threads > 1 ? 262144 : 65536
}

/**
 * Yields every batch of a native epoch (`NativeEpoch`) of a sampler with `threads` threads:
 * runs of batches are filled into one fresh `ArrayBuffer` each by one engine call, and each batch is a set of views into it. With
 * `logProbs`, each batch also gets the log-probabilities of its negatives (pairwise) or items
 * (pointwise). A sampling error (a user with no possible negative) is thrown when the batch
 * that holds the user is reached.
 */
export function* nativeEpochBatches(
  epoch: NativeEpoch,
  plan: EpochPlan,
  threads: number,
  logProbs?: (items: Int32Array) => Float32Array,
): Generator<Pairwise | Pointwise, void, undefined> {
  try {
    yield* runs(epoch, plan, runRows(threads), logProbs)
  } finally {
    // Done, stopped early or failed: the order's memory goes back to the sampler now, for the
    // next epoch, rather than when the garbage collector finds this one.
    epoch.close()
  }
}

function* runs(
  epoch: NativeEpoch,
  plan: EpochPlan,
  maxRows: number,
  logProbs?: (items: Int32Array) => Float32Array,
): Generator<Pairwise | Pointwise, void, undefined> {
  const rowsPerBatch = plan.batchSize * (plan.shape === 'pairwise' ? plan.k : plan.k + 1)
  const run = Math.max(1, Math.floor(maxRows / rowsPerBatch))
  const total = epoch.batches
  for (let first = 0; first < total; first += run) {
    const count = Math.min(run, total - first)
    let filled: [Int32Array, Int32Array, Int32Array | Float32Array]
    try {
      filled = fillRun(epoch, plan.shape, first, count)
    } catch (error) {
      if (count === 1) throw error
      // A batch of this run cannot be sampled: go batch by batch, so that the batches before
      // it are delivered and the error comes with the batch that holds the user.
      for (let b = first; b < first + count; b++) {
        yield batchOf(plan.shape, fillRun(epoch, plan.shape, b, 1), 0, epoch.rows(b, 1), logProbs)
      }
      continue
    }
    const rows = filled[0].length
    for (let start = 0; start < rows; start += rowsPerBatch) {
      yield batchOf(plan.shape, filled, start, Math.min(start + rowsPerBatch, rows), logProbs)
    }
  }
}

/** Fills batches `first .. first + count` of `epoch` into three arrays over one fresh buffer. */
function fillRun(
  epoch: NativeEpoch,
  shape: 'pairwise' | 'pointwise',
  first: number,
  count: number,
): [Int32Array, Int32Array, Int32Array | Float32Array] {
  return native(() => {
    const rows = epoch.rows(first, count)
    const buffer = new ArrayBuffer(rows * 12)
    const users = new Int32Array(buffer, 0, rows)
    const items = new Int32Array(buffer, rows * 4, rows)
    if (shape === 'pairwise') {
      const negatives = new Int32Array(buffer, rows * 8, rows)
      epoch.batchInto(first, count, users, items, negatives)
      return [users, items, negatives]
    }
    const labels = new Float32Array(buffer, rows * 8, rows)
    epoch.batchInto(first, count, users, items, labels)
    return [users, items, labels]
  })
}

/** The batch of rows `start .. end` of a filled run. */
function batchOf(
  shape: 'pairwise' | 'pointwise',
  [users, items, third]: [Int32Array, Int32Array, Int32Array | Float32Array],
  start: number,
  end: number,
  logProbs?: (items: Int32Array) => Float32Array,
): Pairwise | Pointwise {
  if (shape === 'pairwise') {
    const batch: Pairwise = {
      users: users.subarray(start, end),
      positives: items.subarray(start, end),
      negatives: (third as Int32Array).subarray(start, end),
    }
    if (logProbs) batch.negativeLogProbs = logProbs(batch.negatives)
    return batch
  }
  const batch: Pointwise = {
    users: users.subarray(start, end),
    items: items.subarray(start, end),
    labels: (third as Float32Array).subarray(start, end),
  }
  if (logProbs) batch.logProbs = logProbs(batch.items)
  return batch
}
