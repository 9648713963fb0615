import { NativeEpoch, NativeShard } from '../native/index.js'
import { describe, expectInteger, expectNumber, native } from './errors'
import { epochPlan, nativeEpochBatches, type EpochShape } from './epoch'
import * as draws from './draw'
import { Sampler, nativeSampler } from './sampler'
import type { BatchOptions, PairwiseBatch, PointwiseBatch } from './sampler'

/** Which shard: `rank` in `[0, worldSize)`. */
export interface ShardOptions {
  /** This worker's index, in `[0, worldSize)`. */
  rank: number
  /** How many workers share the epoch, in `[1, 2^23]`. */
  worldSize: number
}

/** Options of {@link Shard.epoch}. */
export interface ShardEpochOptions extends BatchOptions, EpochShape {
  /**
   * The epoch number, an integer >= 0. Every worker must pass the same number for the same
   * epoch: it keys the order that the shards split.
   */
  epoch: number
}

/**
 * One data-parallel worker's share of a {@link Sampler}'s training positives.
 *
 * For each epoch number, the positives are put in a pseudo-random order keyed by the sampler's
 * seed and the epoch (the same on every worker); shard `rank` of `worldSize` takes the
 * `rank`-th of `worldSize` equal slices (sizes differ by at most one). So the shards of an epoch
 * are disjoint and together cover every positive exactly once, without any coordination, and
 * each epoch splits them differently. A worker computes only its own slice: O(size) per epoch.
 *
 * The shard draws negatives from its own random streams (its call numbers include the rank), so
 * its output depends only on the seed, the rank and its own sequence of calls: reproducible,
 * and independent of other workers and of timing.
 *
 * @example
 * ```ts
 * const sampler = new Sampler(openDataset('train.nsb').interactions, { seed: 42 })
 * const mine = shard(sampler, { rank, worldSize })
 * for (const batch of mine.epoch({ epoch: 0, batchSize: 1024, negatives: 4 })) train(batch)
 * ```
 */
export class Shard {
  readonly #native: NativeShard
  /** The sampler whose positives and proposal the shard uses. */
  readonly sampler: Sampler
  /** This shard's rank. */
  readonly rank: number
  /** The number of shards. */
  readonly worldSize: number

  /** @internal Use {@link shard}. */
  constructor(sampler: Sampler, options: ShardOptions) {
    const handle = sampler instanceof Sampler ? nativeSampler(sampler) : undefined
    if (handle === undefined) throw new TypeError(`sampler must be a Sampler, got ${describe(sampler)}`)
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object with rank and worldSize, got ${describe(options)}`)
    }
    const worldSize = expectNumber('worldSize', options.worldSize)
    const rank = expectNumber('rank', options.rank)
    this.#native = native(() => new NativeShard(handle, rank, worldSize))
    this.sampler = sampler
    this.rank = rank
    this.worldSize = worldSize
  }

  /** Positives per epoch in this shard. */
  get size(): number {
    return this.#native.size
  }

  /** How many sampling calls this shard has made. */
  get calls(): number {
    return this.#native.calls
  }

  /**
   * This shard's positives of epoch `epoch`, in the shard's order: `count` of them from
   * position `start` (default: all). Cost: a few dozen nanoseconds per positive.
   */
  positives(epoch: number, start = 0, count?: number): {
    /** The user of each positive of the slice, in the epoch's order. */
    users: Int32Array
    /** The item of each positive, parallel to `users`. */
    items: Int32Array
  } {
    expectNumber('epoch', epoch)
    expectNumber('start', start)
    const n = count === undefined ? this.size - start : expectNumber('count', count)
    return native(() => this.#native.positives(epoch, start, n))
  }

  /** Number of batches {@link Shard.epoch} yields. */
  batchesPerEpoch(batchSize: number, dropLast = false): number {
    expectInteger('batchSize', batchSize, 1)
    return dropLast ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize)
  }

  /**
   * This shard's part of epoch `options.epoch`, in batches: every one of its positives once,
   * each with `negatives` sampled negatives from the shard's streams. The pass takes one of the
   * shard's call numbers when `epoch` is called, and each batch's negatives are keyed by it and
   * the batch's index (as {@link Sampler.epoch}).
   *
   * @throws RangeError for a bad epoch, batch size or negative count; a user with no possible
   *   negative when its batch is reached.
   */
  epoch(options: ShardEpochOptions & { shape?: 'pairwise' }): Generator<PairwiseBatch, void, undefined>
  epoch(options: ShardEpochOptions & { shape: 'pointwise' }): Generator<PointwiseBatch, void, undefined>
  epoch(options: ShardEpochOptions): Generator<PairwiseBatch | PointwiseBatch, void, undefined>
  epoch(options: ShardEpochOptions): Generator<PairwiseBatch | PointwiseBatch, void, undefined> {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object with epoch and batchSize, got ${describe(options)}`)
    }
    const epoch = expectNumber('options.epoch', options.epoch)
    const plan = epochPlan(options)
    const pass = native(() =>
      NativeEpoch.forShard(this.#native, epoch, plan.batchSize, plan.k, plan.shape, plan.dropLast),
    )
    const logProbs = options.logProbs ? (items: Int32Array) => this.sampler.logProbabilities(items) : undefined
    return nativeEpochBatches(pass, plan, this.sampler.threads, logProbs) as Generator<PairwiseBatch | PointwiseBatch, void, undefined>
  }

  /** `k` negatives per user from this shard's streams (as {@link Sampler.negatives}). */
  negatives(users: Int32Array, k: number): Int32Array {
    return draws.negatives(this.#native, users, k)
  }

  /** A pairwise batch from this shard's streams (as {@link Sampler.pairwise}). */
  pairwise(users: Int32Array, items: Int32Array, k: number, options: BatchOptions = {}): PairwiseBatch {
    return draws.batch(this.#native, { shape: 'pairwise', users, items, k, options, logProbabilities: this.#logProbabilities })
  }

  /** A pointwise batch from this shard's streams (as {@link Sampler.pointwise}). */
  pointwise(users: Int32Array, items: Int32Array, k: number, options: BatchOptions = {}): PointwiseBatch {
    return draws.batch(this.#native, { shape: 'pointwise', users, items, k, options, logProbabilities: this.#logProbabilities })
  }

  #logProbabilities = (items: Int32Array): Float32Array => this.sampler.logProbabilities(items)
}

/**
 * Shard `rank` of `worldSize` of `sampler`'s training positives, for data-parallel training:
 * N workers (threads, processes or hosts), each with `shard(sampler, { rank, worldSize: N })`
 * over the same data and seed, cover every epoch exactly once with no coordination.
 *
 * @throws TypeError on wrong argument types.
 * @throws RangeError unless `worldSize` is an integer in [1, 2^23] and `rank` in [0, worldSize).
 */
export function shard(sampler: Sampler, options: ShardOptions): Shard {
  return new Shard(sampler, options)
}
