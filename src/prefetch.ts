import { NativeEpoch } from '../native/index.js'
import { describe, expectInteger, expectOptions, native, nativeAsync } from './errors'
import { nativeSampler, type BatchOptions, type PairwiseBatch, type PointwiseBatch, type Sampler } from './sampler'

/**
 * Produces the batch for one slice of positives: `k` negatives for each `(users[j], items[j])`.
 * The default is the sampler's own `pairwiseAsync` / `pointwiseAsync`; pass another function
 * to switch the negatives' source with one option (for example hard negatives scored against
 * the current model). It is called once per batch, in batch order, on the JavaScript thread.
 */
export type BatchSource<B> = (users: Int32Array, items: Int32Array, k: number) => Promise<B> | B

/** Options of {@link epochAsync}. */
export interface AsyncEpochOptions<B = PairwiseBatch | PointwiseBatch> extends BatchOptions {
  /** Positives per batch (the last batch may be smaller unless `dropLast`). */
  batchSize: number
  /** Negatives per positive (`k`). Default 1. */
  negatives?: number
  /** Batch layout of the default source. Default `'pairwise'`. */
  shape?: 'pairwise' | 'pointwise'
  /** Skip the last batch if it has fewer than `batchSize` positives. Default false. */
  dropLast?: boolean
  /** Batches requested ahead of the one being consumed, in [0, 16]. Default 1. */
  prefetch?: number
  /** Where batches come from. Default: the sampler's `pairwiseAsync` / `pointwiseAsync` (off the JavaScript thread). */
  source?: BatchSource<B>
}

/** Counters of an {@link AsyncEpoch}, updated as it is consumed. */
export interface EpochStats {
  /** Batches delivered so far. */
  batches: number
  /** Positives delivered so far. */
  positives: number
  /** Milliseconds the consumer waited for a batch that was not ready (sampling not hidden). */
  waitMs: number
}

/** One shuffled pass over the training positives, batch by batch, as an async iterable. */
export interface AsyncEpoch<B> extends AsyncIterable<B> {
  /** How many batches the pass yields. */
  readonly batches: number
  /** Counters, updated as the pass is consumed. */
  readonly stats: EpochStats
}

const MAX_K = 2 ** 31 - 1

/**
 * One pass over every training positive in a freshly shuffled order, like
 * {@link Sampler.epoch}, but each batch is sampled off the JavaScript thread while the caller
 * works on the previous one (`prefetch` batches ahead): with a trainer that spends longer per
 * step than the engine spends per batch, sampling costs the training loop nothing.
 *
 * Determinism: the pass takes one call number when `epochAsync` is called, and its batches are
 * those of `sampler.epoch` with the same options (each keyed by the pass's call number and its
 * index), so the output does not depend on timing or on `prefetch`. A custom `source` gets the
 * positives of `sampler.shuffledPositives()` (one call number) and makes its own calls. Stopping
 * early (`break`) is safe: batches already requested are dropped.
 *
 * ```ts
 * for await (const batch of epochAsync(sampler, { batchSize: 1024, negatives: 4 })) await step(batch)
 * ```
 *
 * @throws TypeError / RangeError for bad options (when called); a sampling error (a user with
 *   no possible negative) rejects the `next()` that reaches its batch.
 */
export function epochAsync(
  sampler: Sampler,
  options: AsyncEpochOptions<PairwiseBatch> & { shape?: 'pairwise' },
): AsyncEpoch<PairwiseBatch>
export function epochAsync(
  sampler: Sampler,
  options: AsyncEpochOptions<PointwiseBatch> & { shape: 'pointwise' },
): AsyncEpoch<PointwiseBatch>
export function epochAsync<B>(sampler: Sampler, options: AsyncEpochOptions<B>): AsyncEpoch<B>
export function epochAsync<B>(sampler: Sampler, options: AsyncEpochOptions<B>): AsyncEpoch<B> {
  if (sampler === null || typeof sampler !== 'object' || typeof sampler.shuffledPositives !== 'function') {
    throw new TypeError(`sampler must be a Sampler, got ${describe(sampler)}`)
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object with a batchSize, got ${describe(options)}`)
  }
  expectOptions('options', options)
  const batchSize = expectInteger('options.batchSize', options.batchSize, 1)
  const k = options.negatives === undefined ? 1 : expectInteger('options.negatives', options.negatives, 1, MAX_K)
  const ahead = options.prefetch === undefined ? 1 : expectInteger('options.prefetch', options.prefetch, 0, 16)
  const shape = options.shape ?? 'pairwise'
  if (shape !== 'pairwise' && shape !== 'pointwise') {
    throw new RangeError(`options.shape must be 'pairwise' or 'pointwise', got ${describe(shape)}`)
  }
  if (options.source !== undefined && typeof options.source !== 'function') {
    throw new TypeError(`options.source must be a function, got ${describe(options.source)}`)
  }
  const logProbs = options.logProbs ?? false
  const batches = sampler.batchesPerEpoch(batchSize, options.dropLast ?? false)
  const stats: EpochStats = { batches: 0, positives: 0, waitMs: 0 }
  const rowsOf = (b: number) => Math.min(batchSize, sampler.interactions.nnz - b * batchSize)
  let produce: (b: number) => Promise<B>
  let close = () => {}
  if (options.source === undefined) {
    // The engine's epoch: the same batches as `sampler.epoch` with the same options.
    const handle = nativeSampler(sampler)
    if (handle === undefined) throw new TypeError(`sampler must be a Sampler, got ${describe(sampler)}`)
    const pass = native(() => new NativeEpoch(handle, batchSize, k, shape, options.dropLast ?? false))
    close = () => pass.close()
    produce = async (b) => {
      if (shape === 'pairwise') {
        const batch = (await nativeAsync(() => pass.batchAsync(b))) as PairwiseBatch
        if (logProbs) batch.negativeLogProbs = sampler.logProbabilities(batch.negatives)
        return batch as B
      }
      const batch = (await nativeAsync(() => pass.batchAsync(b))) as PointwiseBatch
      if (logProbs) batch.logProbs = sampler.logProbabilities(batch.items)
      return batch as B
    }
  } else {
    const source = options.source
    const order = sampler.shuffledPositives()
    produce = (b) => {
      const users = order.users.subarray(b * batchSize, (b + 1) * batchSize)
      const items = order.items.subarray(b * batchSize, (b + 1) * batchSize)
      return Promise.resolve(source(users, items, k))
    }
  }

  async function* run(): AsyncGenerator<B, void, undefined> {
    const pending: Promise<B>[] = []
    let requested = 0
    const request = () => {
      let promise: Promise<B>
      try {
        promise = produce(requested)
      } catch (error) {
        promise = Promise.reject(error)
      }
      requested++
      // Handled when awaited; until then a rejection must not count as unhandled.
      promise.catch(() => undefined)
      pending.push(promise)
    }
    try {
      while (stats.batches < batches) {
        while (requested < batches && pending.length <= ahead) request()
        const started = performance.now()
        const batch = await pending.shift()!
        stats.waitMs += performance.now() - started
        stats.positives += rowsOf(stats.batches)
        stats.batches++
        yield batch
      }
    } finally {
      // Batches still computing hold the order themselves; it goes back to the sampler for
      // the next epoch when the last of them is done.
      close()
    }
  }

  let used = false
  return {
    batches,
    stats,
    [Symbol.asyncIterator]() {
      if (used) throw new Error('an epochAsync pass can be iterated once: call epochAsync again for the next epoch')
      used = true
      return run()
    },
  }
}
