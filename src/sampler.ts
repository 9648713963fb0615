import { webcrypto } from 'node:crypto'
import {
  fastEntry,
  NativeEpoch,
  NativeSampler,
  type ExternalObject,
} from '../native/index.js'
import {
  describe,
  expectFloat32Array,
  expectFloatArray,
  expectInt32Array,
  expectInteger,
  expectNumber,
  expectOptions,
  native,
} from './errors'
import * as draws from './draw'
import { negativesPerPositive, type BatchOptions, type PairwiseBatch, type PointwiseBatch } from './draw'
import { epochPlan, nativeEpochBatches, type EpochShape } from './epoch'
import { Interactions, nativeInteractions } from './interactions'

/** The distribution negatives are proposed from, before a user's positives are excluded. */
export type ProposalName = 'uniform' | 'popularity' | 'weights'

/**
 * The draw kernel a sampler uses: chosen once per process from the CPU (the fastest it runs), or
 * forced with the environment variable `NEGSAMPLE_KERNEL` set before the process starts. Every
 * kernel gives the same output for the same seed, bit for bit.
 */
export type KernelName = 'scalar' | 'avx2' | 'avx512' | 'neon'


/** Options of the {@link Sampler} constructor. */
export interface SamplerOptions {
  /**
   * `'uniform'` (the default): every item equally likely.
   * `'popularity'`: item `i` with weight `count(i) ** alpha`, where `count(i)` is how many
   * users interacted with it (items nobody interacted with are never proposed).
   * `'weights'`: the caller's `weights`, one per item. Implied when `weights` is given.
   */
  proposal?: ProposalName
  /** Exponent of the popularity proposal: finite, >= 0. Default 0.75 (word2vec's). */
  alpha?: number
  /** One weight per item for the `'weights'` proposal: finite, >= 0, not all zero. Zero-weight items are never drawn. */
  weights?: Float32Array | Float64Array
  /**
   * Seed of every random stream: an integer in [0, 2^64). Same seed and same sequence of calls
   * give the same output on any machine. Default: a random seed (read it back from `sampler.seed`).
   */
  seed?: number | bigint
  /**
   * Threads for calls of many draws (65,536 outputs or more; smaller calls stay on the calling
   * thread): an integer in [1, 256]. Default: every core. The output does not depend on it.
   */
  threads?: number
}

export type { BatchOptions, PairwiseBatch, PointwiseBatch } from './draw'

/** Options of {@link Sampler.epoch}. */
export interface EpochOptions extends BatchOptions, EpochShape {}

let nativeOf: (sampler: Sampler) => NativeSampler

/**
 * The addon's direct entry for `negativesInto` (see `crates/negsample-node/src/fast_call.rs`):
 * the same checks and output as `NativeSampler.negativesInto`, with less per-call bookkeeping.
 */
const negativesIntoFast = fastEntry()

/** The native sampler behind a {@link Sampler} (for the other modules of this package), or undefined for anything else. */
export function nativeSampler(sampler: unknown): NativeSampler | undefined {
  return sampler instanceof Sampler ? nativeOf(sampler) : undefined
}

function randomSeed(): bigint {
  return webcrypto.getRandomValues(new BigUint64Array(1))[0]!
}

function toSeed(seed: unknown): bigint {
  if (seed === undefined) return randomSeed()
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 2n ** 64n) throw new RangeError(`seed must be an integer in [0, 2^64), got ${seed}`)
    return seed
  }
  if (typeof seed === 'number') {
    return BigInt(expectInteger('seed', seed, 0))
  }
  throw new TypeError(`seed must be a number or bigint, got ${describe(seed)}`)
}

function proposalOf(options: SamplerOptions): { name: ProposalName; alpha: number; weights?: Float64Array } {
  const { proposal, alpha, weights } = options
  const name = proposal ?? (weights !== undefined ? 'weights' : 'uniform')
  if (name !== 'uniform' && name !== 'popularity' && name !== 'weights') {
    throw new RangeError(
      `options.proposal must be 'uniform', 'popularity' or 'weights', got ${describe(proposal)}`,
    )
  }
  if (alpha !== undefined) {
    if (name !== 'popularity') {
      throw new RangeError(`options.alpha applies to the 'popularity' proposal only, but proposal is '${name}'`)
    }
    if (typeof alpha !== 'number') throw new TypeError(`options.alpha must be a number, got ${describe(alpha)}`)
  }
  if (name === 'weights') {
    expectFloatArray('options.weights', weights)
    return { name, alpha: 0, weights: weights instanceof Float64Array ? weights : Float64Array.from(weights) }
  }
  if (weights !== undefined) {
    throw new RangeError(`options.weights applies to the 'weights' proposal only, but proposal is '${name}'`)
  }
  return { name, alpha: alpha ?? 0.75 }
}

/**
 * Draws negatives: for each user, items it has not interacted with, from a proposal
 * distribution (uniform, popularity^alpha, or caller weights), restricted exactly to the
 * user's non-positives.
 *
 * Draws cost O(1) each (Vose's alias method; 8 bytes per item), plus a binary search in the
 * user's sorted positives. Users whose positives hold at least half the proposal mass are
 * sampled from their complement directly, so no user makes the sampler spin.
 *
 * Every call that draws randomness takes the next call number; its output depends only on
 * (seed, call number, arguments). Each method has three forms: fresh arrays (`negatives`),
 * caller buffers for hot loops (`negativesInto`), and a Promise computed off the JavaScript
 * thread (`negativesAsync`).
 *
 * @example
 * ```ts
 * const sampler = new Sampler(train, { proposal: 'popularity', seed: 42 })
 * const batch = sampler.pairwise(users, items, 4) // 4 negatives per positive
 * ```
 */
export class Sampler {
  static {
    nativeOf = (sampler) => sampler.#native
  }

  readonly #native: NativeSampler
  /** The handle of `#native` for {@link negativesIntoFast}. */
  readonly #fast: ExternalObject<'NegsampleSampler'>
  /** The matrix whose positives are excluded. */
  readonly interactions: Interactions
  /** The proposal distribution's name. */
  readonly proposal: ProposalName

  /**
   * Builds the proposal's alias table (O(numItems)) and classifies every user (O(nnz)).
   *
   * @throws TypeError on wrong argument types.
   * @throws RangeError for a bad `alpha`, weights of the wrong length, a NaN / infinite /
   *   negative weight (named by position), all-zero weights, an empty catalogue, or a bad seed.
   */
  constructor(interactions: Interactions, options: SamplerOptions = {}) {
    const handle = interactions instanceof Interactions ? nativeInteractions(interactions) : undefined
    if (handle === undefined) {
      throw new TypeError(`interactions must be an Interactions, got ${describe(interactions)}`)
    }
    expectOptions('options', options)
    const { name, alpha, weights } = proposalOf(options)
    const seed = toSeed(options.seed)
    const threads =
      options.threads === undefined ? undefined : expectNumber('options.threads', options.threads)
    this.#native = native(() => new NativeSampler(handle, name, alpha, weights, seed, threads))
    this.#fast = this.#native.fastHandle()
    this.interactions = interactions
    this.proposal = name
  }

  /** The seed of every random stream. */
  get seed(): bigint {
    return this.#native.seed
  }

  /** How many threads a call of many draws uses (the `threads` option; default every core). */
  get threads(): number {
    return this.#native.threads
  }

  /** The draw kernel in use (see {@link KernelName}); `NEGSAMPLE_KERNEL` forces one. */
  get kernel(): KernelName {
    return this.#native.kernel as KernelName
  }

  /** How many calls have drawn randomness so far. */
  get calls(): number {
    return this.#native.calls
  }

  /** Whether `user` has at least one item it has not interacted with (and a positive proposal weight). */
  hasNegative(user: number): boolean {
    expectNumber('user', user)
    return native(() => this.#native.hasNegative(user))
  }

  /** Whether `user`'s negatives are drawn from its complement (its positives hold >= half the proposal mass). */
  usesComplement(user: number): boolean {
    expectNumber('user', user)
    return native(() => this.#native.usesComplement(user))
  }

  /**
   * `k` negatives for each user: `out[j * k + i]` is the `i`-th negative of `users[j]`.
   *
   * @throws TypeError if `users` is not an `Int32Array` or `k` not a number.
   * @throws RangeError if `k` is not an integer >= 1, a user id is out of range, or a user has
   *   no possible negative (the message names the user).
   */
  negatives(users: Int32Array, k: number): Int32Array {
    return draws.negatives(this.#native, users, k)
  }

  /**
   * As {@link Sampler.negatives}, into `out` (length `users.length * k`), which is returned.
   * No allocation: the form for hot loops.
   */
  negativesInto(users: Int32Array, k: number, out: Int32Array): Int32Array {
    expectInt32Array('users', users)
    const count = negativesPerPositive(k)
    expectInt32Array('out', out)
    native(() => negativesIntoFast(this.#fast, users, count, out))
    return out
  }

  /** As {@link Sampler.negatives}, computed off the JavaScript thread. `users` is copied when called. */
  negativesAsync(users: Int32Array, k: number): Promise<Int32Array> {
    return draws.negativesAsync(this.#native, users, k)
  }

  /**
   * A pairwise (BPR) batch: for each positive `(users[j], items[j])`, `k` rows
   * `(user, positive, negative)`, the rows of one positive together.
   *
   * @throws TypeError on wrong array types.
   * @throws RangeError if `users` and `items` differ in length, an id is out of range, `k` is
   *   not an integer >= 1, or a user has no possible negative.
   */
  pairwise(users: Int32Array, items: Int32Array, k: number, options: BatchOptions = {}): PairwiseBatch {
    return draws.batch(this.#native, { shape: 'pairwise', users, items, k, options, logProbabilities: this.#logProbabilities })
  }

  /** As {@link Sampler.pairwise}, into caller buffers of `users.length * k` rows each; returns `out`. */
  pairwiseInto(users: Int32Array, items: Int32Array, k: number, out: PairwiseBatch): PairwiseBatch {
    return draws.batchInto(this.#native, 'pairwise', users, items, k, out)
  }

  /** As {@link Sampler.pairwise}, computed off the JavaScript thread. Inputs are copied when called. */
  pairwiseAsync(users: Int32Array, items: Int32Array, k: number, options: BatchOptions = {}): Promise<PairwiseBatch> {
    return draws.batchAsync(this.#native, { shape: 'pairwise', users, items, k, options, logProbabilities: this.#logProbabilities })
  }

  /**
   * A pointwise batch: for each positive, `1 + k` rows: the positive (label 1) followed by its
   * `k` negatives (label 0).
   *
   * @throws As {@link Sampler.pairwise}.
   */
  pointwise(users: Int32Array, items: Int32Array, k: number, options: BatchOptions = {}): PointwiseBatch {
    return draws.batch(this.#native, { shape: 'pointwise', users, items, k, options, logProbabilities: this.#logProbabilities })
  }

  /** As {@link Sampler.pointwise}, into caller buffers of `users.length * (1 + k)` rows; returns `out`. */
  pointwiseInto(users: Int32Array, items: Int32Array, k: number, out: PointwiseBatch): PointwiseBatch {
    return draws.batchInto(this.#native, 'pointwise', users, items, k, out)
  }

  /** As {@link Sampler.pointwise}, computed off the JavaScript thread. Inputs are copied when called. */
  pointwiseAsync(users: Int32Array, items: Int32Array, k: number, options: BatchOptions = {}): Promise<PointwiseBatch> {
    return draws.batchAsync(this.#native, { shape: 'pointwise', users, items, k, options, logProbabilities: this.#logProbabilities })
  }

  /**
   * The natural log of the proposal probability of each item: `log q(i)` for sampled-softmax
   * (logQ) corrections. These are the probabilities the alias table realises (within 2^-32
   * of the requested weights); a zero-weight item gives `-Infinity`.
   */
  logProbabilities(items: Int32Array): Float32Array {
    expectInt32Array('items', items)
    const out = new Float32Array(items.length)
    native(() => this.#native.logProbabilitiesInto(items, out))
    return out
  }

  /** As {@link Sampler.logProbabilities}, into `out` (same length as `items`); returns `out`. */
  logProbabilitiesInto(items: Int32Array, out: Float32Array): Float32Array {
    expectInt32Array('items', items)
    expectFloat32Array('out', out)
    native(() => this.#native.logProbabilitiesInto(items, out))
    return out
  }

  /**
   * Every training positive once, in a freshly shuffled order: the order {@link Sampler.epoch}
   * walks, for trainers that cut their own batches (see `epochAsync`). Takes one call number.
   * Cost: O(nnz) time, 8 bytes per positive.
   */
  shuffledPositives(): {
    /** The user of each positive, in the shuffled order. */
    users: Int32Array
    /** The item of each positive, parallel to `users`. */
    items: Int32Array
  } {
    return native(() => this.#native.shuffledPositives())
  }

  /** Number of batches {@link Sampler.epoch} yields for `batchSize`. */
  batchesPerEpoch(batchSize: number, dropLast = false): number {
    expectInteger('batchSize', batchSize, 1)
    const n = this.interactions.nnz
    return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize)
  }

  /**
   * One pass over every training positive in a freshly shuffled order, in batches of
   * `batchSize` positives, each with `negatives` sampled negatives per positive.
   *
   * ```ts
   * for (const batch of sampler.epoch({ batchSize: 1024, negatives: 4 })) train(batch)
   * ```
   *
   * Arguments are checked when `epoch` is called, and the epoch takes its one call number then
   * and shuffles. Each batch's negatives come from streams keyed by that call number and the
   * batch's index (stream version 2), so a batch does not depend on other calls made during the
   * epoch, on the thread count, or on when it is consumed. The engine fills runs of batches
   * (65,536 rows; 262,144 with several threads) in one native pass each: the gather of the shuffled positives, the
   * draws and the exclusion tests; each batch's arrays are views into its run's buffer.
   *
   * @throws RangeError if `batchSize` or `negatives` is not an integer >= 1, or a user with
   *   positives has no possible negative (when its batch is reached).
   */
  epoch(options: EpochOptions & { shape?: 'pairwise' }): Generator<PairwiseBatch, void, undefined>
  epoch(options: EpochOptions & { shape: 'pointwise' }): Generator<PointwiseBatch, void, undefined>
  epoch(options: EpochOptions): Generator<PairwiseBatch | PointwiseBatch, void, undefined>
  epoch(options: EpochOptions): Generator<PairwiseBatch | PointwiseBatch, void, undefined> {
    const plan = epochPlan(options)
    const epoch = native(() => new NativeEpoch(this.#native, plan.batchSize, plan.k, plan.shape, plan.dropLast))
    const logProbs = options.logProbs ? (items: Int32Array) => this.logProbabilities(items) : undefined
    return nativeEpochBatches(epoch, plan, this.threads, logProbs) as Generator<PairwiseBatch | PointwiseBatch, void, undefined>
  }

  #logProbabilities = (items: Int32Array): Float32Array => this.logProbabilities(items)
}
