import {
  dotPath,
  hardNegatives as nativeHard,
  hardNegativesAsync as nativeHardAsync,
  hardNegativesInto as nativeHardInto,
  type HardArgs,
  type HardArrays,
  type HardInputs,
  type HardWants,
} from '../native/index.js'
import {
  describe,
  expectFloat32Array,
  expectInt32Array,
  expectInteger,
  expectNumber,
  expectOptions,
  native,
  nativeAsync,
} from './errors'
import { negativesPerPositive } from './draw'
import { epochBatches, epochPlan, type EpochShape } from './epoch'
import { Interactions } from './interactions'
import { nativeSampler, Sampler, type PairwiseBatch, type PointwiseBatch, type SamplerOptions } from './sampler'

/** How `k` negatives are kept among a positive's `M` scored candidates. */
export type HardStrategy = 'max' | 'softmax'

/** The model snapshot and selection rule of a hard-negatives call. */
export interface HardOptions {
  /** Candidates drawn per positive (`M`), each with exclusion of the user's positives. Integer in [1, 65536]. */
  candidates: number
  /**
   * `'max'` (default): the `k` highest-scoring candidates, hardest first (DNS, Zhang et al. 2013);
   * equal scores go to the earlier-drawn candidate.
   * `'softmax'`: `k` distinct candidates drawn one after another with probability proportional
   * to `exp(score / temperature)` (fewer false negatives than `'max'`).
   */
  strategy?: HardStrategy
  /** Softmax temperature, finite and > 0 (default 1). Only with `strategy: 'softmax'`. */
  temperature?: number
  /** User embeddings, `numUsers * dim` floats, row-major. Read in place by synchronous calls. */
  userEmbeddings: Float32Array
  /** Item embeddings, `numItems * dim` floats, row-major. Read in place by synchronous calls. */
  itemEmbeddings: Float32Array
  /** Embedding dimension (any integer >= 1). */
  dim: number
  /** Spread the work over all cores (default true). The output is the same either way. */
  parallel?: boolean
}

/** Options of {@link hardNegatives}. */
export interface HardNegativesOptions extends HardOptions {
  /** Negatives kept per positive (`k`), at most `candidates`. Default 1. */
  negatives?: number
  /** Also return `ln q` of each negative under the proposal (for logQ corrections). */
  logProbs?: boolean
  /** Also return every candidate drawn (`M` per positive, in draw order), e.g. to check a reference. */
  returnCandidates?: boolean
}

/** The result of {@link hardNegatives}. */
export interface HardNegativesResult {
  /** `k` negatives per positive: `negatives[j * k + t]` for positive `j` (hardest first with `'max'`). */
  negatives: Int32Array
  /** The score (dot product of the user's and the negative's embeddings) of each negative. */
  scores: Float32Array
  /** With `logProbs: true`: `ln q` of each negative under the proposal. */
  logProbs?: Float32Array
  /** With `returnCandidates: true`: the `M` candidates of each positive. */
  candidates?: Int32Array
}

/** A pairwise batch with hard negatives: {@link PairwiseBatch} plus each negative's score. */
export interface HardPairwiseBatch extends PairwiseBatch {
  /** The score of each row's negative. */
  scores: Float32Array
}

/** A pointwise batch with hard negatives: {@link PointwiseBatch} plus each row's score. */
export interface HardPointwiseBatch extends PointwiseBatch {
  /** The score of each row's item (the positive's own score on its row). */
  scores: Float32Array
}

/** Per-call options of the batch methods of {@link HardNegatives}. */
export interface HardBatchOptions {
  /** Also return `ln q` of each sampled item (as {@link Sampler.pairwise} does). */
  logProbs?: boolean
}

/** Options of {@link HardNegatives.epoch}: as {@link Sampler.epoch}. */
export interface HardEpochOptions extends HardBatchOptions, EpochShape {}


/** Which dot-product code this CPU runs (`'avx512'`, `'avx2'`, `'neon'` or `'scalar'`); all give the same bits. */
export function dotProductPath(): string {
  return dotPath()
}

function samplerHandle(sampler: unknown) {
  const handle = nativeSampler(sampler)
  if (handle === undefined) throw new TypeError(`sampler must be a Sampler, got ${describe(sampler)}`)
  return handle
}

/** Checks JavaScript types of the model options and turns them into the binding's arguments. */
function hardArgs(options: unknown, k: number, layout: 'pairwise' | 'pointwise'): HardArgs {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`options must be an object with candidates, userEmbeddings, itemEmbeddings and dim, got ${describe(options)}`)
  }
  const o = options as HardOptions
  expectNumber('options.candidates', o.candidates)
  expectFloat32Array('options.userEmbeddings', o.userEmbeddings)
  expectFloat32Array('options.itemEmbeddings', o.itemEmbeddings)
  expectNumber('options.dim', o.dim)
  const strategy = o.strategy ?? 'max'
  if (strategy !== 'max' && strategy !== 'softmax') {
    throw new RangeError(`options.strategy must be 'max' or 'softmax', got ${describe(o.strategy)}`)
  }
  if (o.temperature !== undefined) {
    if (typeof o.temperature !== 'number') {
      throw new TypeError(`options.temperature must be a number, got ${describe(o.temperature)}`)
    }
    if (strategy !== 'softmax') {
      throw new RangeError(`options.temperature applies to the 'softmax' strategy only, but strategy is '${strategy}'`)
    }
  }
  if (o.parallel !== undefined && typeof o.parallel !== 'boolean') {
    throw new TypeError(`options.parallel must be a boolean, got ${describe(o.parallel)}`)
  }
  const args: HardArgs = { candidates: o.candidates, negatives: k, strategy, dim: o.dim, layout }
  if (o.temperature !== undefined) args.temperature = o.temperature
  if (o.parallel !== undefined) args.parallel = o.parallel
  return args
}

/** A hard-negatives call of the free functions, its JavaScript types checked. */
function hardCall(sampler: unknown, users: unknown, positives: unknown, options: HardNegativesOptions) {
  const handle = samplerHandle(sampler)
  expectInt32Array('users', users)
  expectInt32Array('positives', positives)
  expectOptions('options', options)
  const k = options?.negatives === undefined ? 1 : expectNumber('options.negatives', options.negatives)
  const args = hardArgs(options, k, 'pairwise')
  return { handle, inputs: inputsOf(users, positives, options), args }
}

function inputsOf(users: Int32Array, positives: Int32Array, options: HardOptions): HardInputs {
  return { users, positives, userEmbeddings: options.userEmbeddings, itemEmbeddings: options.itemEmbeddings }
}

function wantsOf(options: HardNegativesOptions): HardWants {
  return { logProbs: options.logProbs ?? false, rows: false, candidates: options.returnCandidates ?? false }
}

function resultOf(r: HardArrays): HardNegativesResult {
  const result: HardNegativesResult = { negatives: r.items, scores: r.scores }
  if (r.logProbs) result.logProbs = r.logProbs
  if (r.candidates) result.candidates = r.candidates
  return result
}

/** How a batch of each layout is made of the native arrays, and the other way round. */
const LAYOUTS = {
  pairwise: {
    batch(r: HardArrays): HardPairwiseBatch {
      const batch: HardPairwiseBatch = { users: r.users!, positives: r.positives!, negatives: r.items, scores: r.scores }
      if (r.logProbs) batch.negativeLogProbs = r.logProbs
      return batch
    },
    buffers(out: HardPairwiseBatch): HardArrays {
      expectOptions('out', out)
      expectInt32Array('out.users', out.users)
      expectInt32Array('out.positives', out.positives)
      expectInt32Array('out.negatives', out.negatives)
      expectFloat32Array('out.scores', out.scores)
      if (out.negativeLogProbs !== undefined) expectFloat32Array('out.negativeLogProbs', out.negativeLogProbs)
      return { items: out.negatives, scores: out.scores, logProbs: out.negativeLogProbs, users: out.users, positives: out.positives }
    },
  },
  pointwise: {
    batch(r: HardArrays): HardPointwiseBatch {
      const batch: HardPointwiseBatch = { users: r.users!, items: r.items, labels: r.labels!, scores: r.scores }
      if (r.logProbs) batch.logProbs = r.logProbs
      return batch
    },
    buffers(out: HardPointwiseBatch): HardArrays {
      expectOptions('out', out)
      expectInt32Array('out.users', out.users)
      expectInt32Array('out.items', out.items)
      expectFloat32Array('out.labels', out.labels)
      expectFloat32Array('out.scores', out.scores)
      if (out.logProbs !== undefined) expectFloat32Array('out.logProbs', out.logProbs)
      return { items: out.items, scores: out.scores, logProbs: out.logProbs, users: out.users, labels: out.labels }
    },
  },
} as const

type BatchLayout = keyof typeof LAYOUTS
type BatchOf<L extends BatchLayout> = L extends 'pairwise' ? HardPairwiseBatch : HardPointwiseBatch

/**
 * Hard negatives (DNS): for each positive `(users[j], positives[j])`, draws `candidates` items
 * from the sampler's proposal (never a positive of the user), scores each against the current
 * embeddings, and keeps the `negatives` hardest (or draws them by softmax).
 *
 * Embeddings are read in place (no copy). Takes one call number of the sampler: the output
 * depends only on the sampler's seed, the call number and the arguments, on any thread count
 * or CPU.
 *
 * Cost per positive: `M` alias draws with exclusion and `M` dot products of `dim`.
 *
 * @throws TypeError on wrong argument types.
 * @throws RangeError if an embedding matrix's length is not `numUsers * dim` / `numItems * dim`
 *   (the message names both sizes), `negatives > candidates`, `temperature` is not finite and
 *   > 0, an id is out of range, the arrays differ in length, or a user has no possible negative.
 */
export function hardNegatives(
  sampler: Sampler,
  users: Int32Array,
  positives: Int32Array,
  options: HardNegativesOptions,
): HardNegativesResult {
  const call = hardCall(sampler, users, positives, options)
  return resultOf(native(() => nativeHard(call.handle, call.inputs, call.args, wantsOf(options))))
}

/**
 * As {@link hardNegatives}, into `out` (`negatives` and `scores` of `users.length * k`; `logProbs`
 * and `candidates` written when present). No allocation: the form for hot loops. Returns `out`.
 */
export function hardNegativesInto(
  sampler: Sampler,
  users: Int32Array,
  positives: Int32Array,
  options: HardNegativesOptions,
  out: HardNegativesResult,
): HardNegativesResult {
  const call = hardCall(sampler, users, positives, options)
  expectOptions('out', out)
  expectInt32Array('out.negatives', out.negatives)
  expectFloat32Array('out.scores', out.scores)
  if (out.logProbs !== undefined) expectFloat32Array('out.logProbs', out.logProbs)
  if (out.candidates !== undefined) expectInt32Array('out.candidates', out.candidates)
  const buffers = { items: out.negatives, scores: out.scores, logProbs: out.logProbs, candidates: out.candidates }
  native(() => nativeHardInto(call.handle, call.inputs, call.args, buffers))
  return out
}

/**
 * As {@link hardNegatives}, computed off the JavaScript thread. The ids and both embedding
 * matrices are copied when called (so training may go on meanwhile; the copy costs
 * `4 * (numUsers + numItems) * dim` bytes).
 */
export async function hardNegativesAsync(
  sampler: Sampler,
  users: Int32Array,
  positives: Int32Array,
  options: HardNegativesOptions,
): Promise<HardNegativesResult> {
  const call = hardCall(sampler, users, positives, options)
  return resultOf(await nativeAsync(() => nativeHardAsync(call.handle, call.inputs, call.args, wantsOf(options))))
}

/** Constructor options of {@link HardNegatives} built from an {@link Interactions}: the sampler's options too. */
export type HardNegativesSamplerOptions = HardOptions & SamplerOptions

/**
 * A drop-in source of training batches with hard negatives: the same `pairwise`, `pointwise`
 * and `epoch` methods as {@link Sampler} (same arguments, same batch shapes, plus `scores`),
 * so a trainer switches from random to hard negatives by constructing this instead.
 *
 * It holds the embedding arrays it is given and reads their *current* contents at every call
 * (so in-place SGD updates are seen); {@link HardNegatives.setEmbeddings} swaps in new arrays
 * (e.g. fresh `await tensor.data()` snapshots).
 *
 * @example
 * ```ts
 * const source = useHard
 *   ? new HardNegatives(sampler, { candidates: 32, userEmbeddings, itemEmbeddings, dim: 64 })
 *   : sampler
 * for (const batch of source.epoch({ batchSize: 1024, negatives: 1 })) train(batch)
 * ```
 */
export class HardNegatives {
  /** The sampler that proposes candidates (and owns the seed and call numbers). */
  readonly sampler: Sampler
  #options: HardOptions

  /**
   * @param source a {@link Sampler} to share (its seed and call numbers), or an
   *   {@link Interactions} to build one from (`options` then also takes the sampler's
   *   `proposal`, `alpha`, `weights` and `seed`).
   * @throws TypeError / RangeError as {@link hardNegatives} and the {@link Sampler} constructor.
   */
  constructor(source: Sampler | Interactions, options: HardOptions | HardNegativesSamplerOptions) {
    expectOptions('options', options)
    if (source instanceof Interactions) {
      const { proposal, alpha, weights, seed } = options as HardNegativesSamplerOptions
      const samplerOptions: SamplerOptions = {}
      if (proposal !== undefined) samplerOptions.proposal = proposal
      if (alpha !== undefined) samplerOptions.alpha = alpha
      if (weights !== undefined) samplerOptions.weights = weights
      if (seed !== undefined) samplerOptions.seed = seed
      this.sampler = new Sampler(source, samplerOptions)
    } else {
      samplerHandle(source)
      this.sampler = source
    }
    hardArgs(options, 1, 'pairwise')
    const { candidates, strategy, temperature, userEmbeddings, itemEmbeddings, dim, parallel } = options
    this.#options = { candidates, userEmbeddings, itemEmbeddings, dim }
    if (strategy !== undefined) this.#options.strategy = strategy
    if (temperature !== undefined) this.#options.temperature = temperature
    if (parallel !== undefined) this.#options.parallel = parallel
  }

  /** The current options (embeddings included). */
  get options(): Readonly<HardOptions> {
    return this.#options
  }

  /** Uses new embedding arrays from the next call on (same `dim` unless given). */
  setEmbeddings(userEmbeddings: Float32Array, itemEmbeddings: Float32Array, dim = this.#options.dim): void {
    const next = { ...this.#options, userEmbeddings, itemEmbeddings, dim }
    hardArgs(next, 1, 'pairwise')
    this.#options = next
  }

  /** `k` hard negatives per positive, with scores: {@link hardNegatives} with this object's options. */
  negatives(users: Int32Array, positives: Int32Array, k = 1, options: HardBatchOptions = {}): HardNegativesResult {
    expectOptions('options', options)
    return hardNegatives(this.sampler, users, positives, { ...this.#options, negatives: k, logProbs: options.logProbs ?? false })
  }

  /**
   * A pairwise (BPR) batch as {@link Sampler.pairwise} makes it, with hard negatives:
   * `users.length * k` rows `(user, positive, negative)` plus each negative's score.
   */
  pairwise(users: Int32Array, items: Int32Array, k: number, options: HardBatchOptions = {}): HardPairwiseBatch {
    return this.#batch('pairwise', users, items, k, options)
  }

  /** As {@link HardNegatives.pairwise}, into caller buffers of `users.length * k` rows; returns `out`. */
  pairwiseInto(users: Int32Array, items: Int32Array, k: number, out: HardPairwiseBatch): HardPairwiseBatch {
    return this.#batchInto('pairwise', users, items, k, out)
  }

  /** As {@link HardNegatives.pairwise}, computed off the JavaScript thread (inputs and embeddings copied when called). */
  pairwiseAsync(users: Int32Array, items: Int32Array, k: number, options: HardBatchOptions = {}): Promise<HardPairwiseBatch> {
    return this.#batchAsync('pairwise', users, items, k, options)
  }

  /**
   * A pointwise batch as {@link Sampler.pointwise} makes it, with hard negatives:
   * `users.length * (1 + k)` rows, each positive (label 1) then its `k` negatives (label 0),
   * plus each row's score.
   */
  pointwise(users: Int32Array, items: Int32Array, k: number, options: HardBatchOptions = {}): HardPointwiseBatch {
    return this.#batch('pointwise', users, items, k, options)
  }

  /** As {@link HardNegatives.pointwise}, into caller buffers of `users.length * (1 + k)` rows; returns `out`. */
  pointwiseInto(users: Int32Array, items: Int32Array, k: number, out: HardPointwiseBatch): HardPointwiseBatch {
    return this.#batchInto('pointwise', users, items, k, out)
  }

  /** As {@link HardNegatives.pointwise}, computed off the JavaScript thread (inputs and embeddings copied when called). */
  pointwiseAsync(users: Int32Array, items: Int32Array, k: number, options: HardBatchOptions = {}): Promise<HardPointwiseBatch> {
    return this.#batchAsync('pointwise', users, items, k, options)
  }

  /**
   * One pass over every training positive in a freshly shuffled order, in batches with hard
   * negatives: the same options and batches as {@link Sampler.epoch}, plus `scores`. Each batch
   * reads the embeddings as they are when it is produced.
   */
  epoch(options: HardEpochOptions & { shape?: 'pairwise' }): Generator<HardPairwiseBatch, void, undefined>
  epoch(options: HardEpochOptions & { shape: 'pointwise' }): Generator<HardPointwiseBatch, void, undefined>
  epoch(options: HardEpochOptions): Generator<HardPairwiseBatch | HardPointwiseBatch, void, undefined>
  epoch(options: HardEpochOptions): Generator<HardPairwiseBatch | HardPointwiseBatch, void, undefined> {
    // The batches are cut here, so their size and `k` are checked here too.
    const { shape, dropLast } = epochPlan(options)
    const batchSize = expectInteger('options.batchSize', options.batchSize, 1)
    const k = options.negatives === undefined ? 1 : expectInteger('options.negatives', options.negatives, 1, this.#options.candidates)
    const batches = this.sampler.batchesPerEpoch(batchSize, dropLast)
    const order = native(() => samplerHandle(this.sampler).shuffledPositives())
    const batchOptions: HardBatchOptions = { logProbs: options.logProbs ?? false }
    return epochBatches(order.users, order.items, batchSize, batches, (u, i) =>
      shape === 'pairwise' ? this.pairwise(u, i, k, batchOptions) : this.pointwise(u, i, k, batchOptions),
    )
  }

  /** One batch call of this object, its JavaScript types checked. */
  #call(layout: BatchLayout, users: unknown, items: unknown, k: unknown, options: unknown) {
    expectInt32Array('users', users)
    expectInt32Array('items', items)
    expectOptions('options', options)
    const o = this.#options
    const args = hardArgs(o, negativesPerPositive(k), layout)
    return { handle: samplerHandle(this.sampler), inputs: inputsOf(users, items, o), args }
  }

  #batch<L extends BatchLayout>(layout: L, users: Int32Array, items: Int32Array, k: number, options: HardBatchOptions): BatchOf<L> {
    const call = this.#call(layout, users, items, k, options)
    const wants = { logProbs: options.logProbs ?? false, rows: true, candidates: false }
    return LAYOUTS[layout].batch(native(() => nativeHard(call.handle, call.inputs, call.args, wants))) as BatchOf<L>
  }

  #batchInto<L extends BatchLayout>(layout: L, users: Int32Array, items: Int32Array, k: number, out: BatchOf<L>): BatchOf<L> {
    const call = this.#call(layout, users, items, k, {})
    const buffers = (LAYOUTS[layout].buffers as (out: BatchOf<L>) => HardArrays)(out)
    native(() => nativeHardInto(call.handle, call.inputs, call.args, buffers))
    return out
  }

  async #batchAsync<L extends BatchLayout>(layout: L, users: Int32Array, items: Int32Array, k: number, options: HardBatchOptions): Promise<BatchOf<L>> {
    const call = this.#call(layout, users, items, k, options)
    const wants = { logProbs: options.logProbs ?? false, rows: true, candidates: false }
    const r = await nativeAsync(() => nativeHardAsync(call.handle, call.inputs, call.args, wants))
    return LAYOUTS[layout].batch(r) as BatchOf<L>
  }
}
