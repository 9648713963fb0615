/**
 * negsample/tfjs: TensorFlow.js integration.
 *
 * Every function takes the caller's `tf` namespace as its first argument (from
 * `@tensorflow/tfjs`, `@tensorflow/tfjs-node`, or `@tensorflow/tfjs` on the WASM backend), so
 * this module never loads TensorFlow.js itself, and the main `negsample` entry point never
 * loads this module.
 *
 * - {@link pairwiseTensors} / {@link pointwiseTensors}: batches as `int32` id tensors and
 *   `float32` label / log-probability tensors, without a copy on the CPU backend.
 * - {@link samplerDataset}: a `tf.data` dataset for `model.fitDataset`, one shuffled epoch per
 *   iteration, each batch sampled off the JavaScript thread while the previous one trains.
 * - {@link embeddingLookup} / {@link embeddingLayer}: an embedding lookup whose gradient costs
 *   in proportion to the batch (tf.gather's gradient on the CPU backend costs in proportion to
 *   the batch times the vocabulary, and the WASM backend has no kernel for it).
 * - {@link bprLoss}, {@link bceWithLogitsLoss}, {@link sampledSoftmaxLoss}: numerically stable
 *   losses for implicit feedback.
 * - {@link sparseAdam}, {@link sparseAdagrad}, {@link sparseSgd}, {@link lookupGradients}:
 *   optimizers for embedding tables that update only the rows of the batch (lazy Adam).
 *
 * @packageDocumentation
 */
import type * as tfc from '@tensorflow/tfjs-core'
import type * as tfjs from '@tensorflow/tfjs'
import { describe, expectInteger, expectOptions } from './errors'
import { epochAsync, type BatchSource, type EpochStats } from './prefetch'
import type { PairwiseBatch, PointwiseBatch, Sampler } from './sampler'

/** The TensorFlow.js core namespace (`import * as tf from '@tensorflow/tfjs'` satisfies it). */
export type TfCore = typeof tfc
/** The full TensorFlow.js namespace, with `tf.data` and `tf.layers`. */
export type Tf = typeof tfjs

function expectTf(tf: unknown, needs: readonly string[] = []): void {
  const ns = tf as Record<string, unknown> | null
  if (ns === null || (typeof ns !== 'object' && typeof ns !== 'function') || typeof ns.tensor1d !== 'function') {
    throw new TypeError(
      `tf must be the TensorFlow.js namespace (import * as tf from '@tensorflow/tfjs'), got ${describe(tf)}`,
    )
  }
  for (const name of needs) {
    if (ns[name] === undefined) {
      throw new TypeError(`tf.${name} is missing: pass the full namespace of '@tensorflow/tfjs' (not tfjs-core alone)`)
    }
  }
}

function expectTensor(tf: TfCore, name: string, value: unknown, dtype?: string): asserts value is tfc.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new TypeError(`${name} must be a tf.Tensor, got ${describe(value)}`)
  }
  if (value.isDisposed) {
    throw new TypeError(`${name} has been disposed (a tf.Tensor of shape [${value.shape}], dtype '${value.dtype}')`)
  }
  if (dtype !== undefined && value.dtype !== dtype) {
    throw new TypeError(`${name} must have dtype '${dtype}', got '${value.dtype}'`)
  }
}

/** Whether `shape` broadcasts to exactly `target` (NumPy rules, aligned on the right). */
function broadcastsTo(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false
  for (let j = 1; j <= shape.length; j++) {
    const a = shape[shape.length - j]!
    if (a !== 1 && a !== target[target.length - j]) return false
  }
  return true
}

/** Whether two shapes broadcast together (NumPy rules). */
function broadcastTogether(a: readonly number[], b: readonly number[]): boolean {
  for (let j = 1; j <= Math.min(a.length, b.length); j++) {
    const x = a[a.length - j]!
    const y = b[b.length - j]!
    if (x !== y && x !== 1 && y !== 1) return false
  }
  return true
}

/** RangeError unless tensor `name` broadcasts to `target` (the shape of `targetName`). */
function expectBroadcastsTo(name: string, value: tfc.Tensor, targetName: string, target: readonly number[]): void {
  if (!broadcastsTo(value.shape, target)) {
    throw new RangeError(`${name} has shape [${value.shape}], which does not broadcast to ${targetName}'s shape [${target}]`)
  }
}

// ---------------------------------------------------------------------------------------------
// Batches to tensors
// ---------------------------------------------------------------------------------------------

/**
 * Shape of the tensors made from a batch of `n` rows:
 * - `'flat'`: `[n]`, what `tf.gather` and {@link embeddingLookup} take;
 * - `'column'`: `[n, 1]`, what a `tf.layers.embedding` with `inputLength: 1` takes;
 * - `'grouped'`: `[n / g, g]` with `g = negatives` (pairwise) or `1 + negatives` (pointwise),
 *   one row per positive, for losses over a positive and its negatives.
 */
export type Layout = 'flat' | 'column' | 'grouped'

/** Options of {@link pairwiseTensors} and {@link pointwiseTensors}. */
export interface TensorOptions {
  /** Tensor shape. Default `'flat'`. */
  layout?: Layout
  /** Negatives per positive in the batch (`k`): required for `layout: 'grouped'`. */
  negatives?: number
}

/** A {@link PairwiseBatch} as tensors. */
export interface PairwiseTensors {
  /** `int32` user ids. */
  users: tfc.Tensor
  /** `int32` positive item ids. */
  positives: tfc.Tensor
  /** `int32` negative item ids. */
  negatives: tfc.Tensor
  /** `float32` log proposal probability of each negative (when the batch has it). */
  negativeLogProbs?: tfc.Tensor
}

/** A {@link PointwiseBatch} as tensors. */
export interface PointwiseTensors {
  /** `int32` user ids. */
  users: tfc.Tensor
  /** `int32` item ids: each positive followed by its negatives. */
  items: tfc.Tensor
  /** `float32` labels: 1 for a positive, 0 for a negative. */
  labels: tfc.Tensor
  /** `float32` log proposal probability of each item (when the batch has it). */
  logProbs?: tfc.Tensor
}

function shapeOf(rows: number, options: TensorOptions, groupOffset: number): number[] {
  expectOptions('options', options)
  const layout = options.layout ?? 'flat'
  switch (layout) {
    case 'flat':
      return [rows]
    case 'column':
      return [rows, 1]
    case 'grouped': {
      if (options.negatives === undefined) {
        throw new RangeError(`options.negatives is required with layout 'grouped'`)
      }
      const group = expectInteger('options.negatives', options.negatives, 1) + groupOffset
      if (rows % group !== 0) {
        throw new RangeError(`the batch has ${rows} rows, not a multiple of the group size ${group} (options.negatives + ${groupOffset})`)
      }
      return [rows / group, group]
    }
    default:
      throw new RangeError(`options.layout must be 'flat', 'column' or 'grouped', got ${describe(layout)}`)
  }
}

function expectBatch(batch: unknown): void {
  if (batch === null || typeof batch !== 'object') {
    throw new TypeError(`batch must be an object of typed arrays (a batch from the sampler), got ${describe(batch)}`)
  }
}

function expectArray(name: string, value: unknown, tag: 'Int32Array' | 'Float32Array', rows: number): void {
  if (!ArrayBuffer.isView(value) || Object.prototype.toString.call(value).slice(8, -1) !== tag) {
    throw new TypeError(`${name} must be an ${tag}, got ${describe(value)}`)
  }
  const length = (value as Int32Array).length
  if (length !== rows) throw new RangeError(`${name}.length is ${length}, expected ${rows}`)
}

/**
 * A pairwise batch as tensors: `int32` ids and, if present, `float32` log-probabilities.
 *
 * On the CPU backend the tensors share the batch's arrays (no copy): do not write to the
 * arrays while the tensors live (batches from the sampler's fresh-array and `...Async` forms
 * are never reused). Other backends copy once, as any `tf.tensor` does. Cost: O(1) on CPU.
 *
 * @throws TypeError / RangeError for a malformed batch or options.
 */
export function pairwiseTensors(tf: TfCore, batch: PairwiseBatch, options: TensorOptions = {}): PairwiseTensors {
  return tensorsOf(tf, batch, PAIRWISE_COLUMNS, options, 0) as unknown as PairwiseTensors
}

/**
 * A pointwise batch as tensors: `int32` ids, `float32` labels and, if present, `float32`
 * log-probabilities. With `layout: 'grouped'` each row holds a positive (column 0) and its
 * `negatives` negatives. No copy on the CPU backend (see {@link pairwiseTensors}).
 *
 * @throws TypeError / RangeError for a malformed batch or options.
 */
export function pointwiseTensors(tf: TfCore, batch: PointwiseBatch, options: TensorOptions = {}): PointwiseTensors {
  return tensorsOf(tf, batch, POINTWISE_COLUMNS, options, 1) as unknown as PointwiseTensors
}

/** A batch's columns: name and dtype; the last is its optional ln q column. */
type Columns = readonly (readonly [name: string, dtype: 'int32' | 'float32'])[]
const PAIRWISE_COLUMNS: Columns = [['users', 'int32'], ['positives', 'int32'], ['negatives', 'int32'], ['negativeLogProbs', 'float32']]
const POINTWISE_COLUMNS: Columns = [['users', 'int32'], ['items', 'int32'], ['labels', 'float32'], ['logProbs', 'float32']]

/** The tensors of a batch's columns (all required but the last), checked to have one length. */
function tensorsOf(tf: TfCore, batch: unknown, columns: Columns, options: TensorOptions, groupOffset: number): Record<string, tfc.Tensor> {
  expectTf(tf)
  expectBatch(batch)
  const record = batch as Record<string, unknown>
  const rows = (record.users as Int32Array | undefined)?.length ?? 0
  const present = columns.filter(([name], j) => j < columns.length - 1 || record[name] !== undefined)
  for (const [name, dtype] of present) {
    expectArray(`batch.${name}`, record[name], dtype === 'int32' ? 'Int32Array' : 'Float32Array', rows)
  }
  const shape = shapeOf(rows, options, groupOffset)
  const out: Record<string, tfc.Tensor> = {}
  for (const [name, dtype] of present) out[name] = tf.tensor(record[name] as Int32Array | Float32Array, shape, dtype)
  return out
}

// ---------------------------------------------------------------------------------------------
// tf.data
// ---------------------------------------------------------------------------------------------

/** Options of {@link samplerDataset}. */
export interface DatasetOptions<T> extends TensorOptions {
  /** Positives per batch (the last batch may be smaller unless `dropLast`). */
  batchSize: number
  /** Negatives per positive (`k`). Default 1. */
  negatives?: number
  /** Batch layout. Default `'pairwise'`. */
  shape?: 'pairwise' | 'pointwise'
  /** Skip the last, smaller batch (keeps every batch the same shape). Default false. */
  dropLast?: boolean
  /** Also sample log proposal probabilities (for logQ corrections). Default false. */
  logProbs?: boolean
  /** Batches sampled ahead of the one training, in [0, 16]. Default 1. */
  prefetch?: number
  /**
   * Where batches come from: the switch for other negatives (for example hard negatives
   * scored against the current model) with the same dataset. Default: the sampler's
   * `pairwiseAsync` / `pointwiseAsync` for `shape`.
   */
  source?: BatchSource<PairwiseBatch> | BatchSource<PointwiseBatch>
  /**
   * Turns a batch's tensors into the dataset element. Default: pairwise
   * `{ xs: [users, positives, negatives], ys: ones }` (a model whose output is
   * `score(pos) - score(neg)` trained with `binaryCrossentropy` on it minimises BPR),
   * pointwise `{ xs: [users, items], ys: labels }`. Tensors of the batch that the element does
   * not hold are disposed.
   */
  map?: (tensors: T) => tfc.TensorContainer
}

/** Counters of a {@link SamplerDataset} over all its iterations. */
export interface DatasetStats extends EpochStats {
  /** Iterations (epochs) started. */
  epochs: number
}

/** A `tf.data` dataset of sampled batches: one shuffled epoch per iteration. */
export type SamplerDataset = tfjs.data.Dataset<tfc.TensorContainer> & {
  /** Batches per iteration (also the dataset's `size`). */
  readonly batchesPerEpoch: number
  /** Counters over all iterations: batches, positives, and time the consumer waited. */
  readonly stats: DatasetStats
}

function collectTensors(tf: TfCore, value: unknown, into: Set<tfc.Tensor>): void {
  if (value instanceof tf.Tensor) into.add(value)
  else if (Array.isArray(value)) for (const v of value) collectTensors(tf, v, into)
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) collectTensors(tf, v, into)
}

/**
 * A `tf.data` dataset for `model.fitDataset`: each iteration is one epoch, every training
 * positive once in a fresh shuffle, in `batchesPerEpoch` batches; each batch is sampled off
 * the JavaScript thread (`prefetch` batches ahead) while the previous one trains, and becomes
 * tensors only when it is consumed, so an abandoned iteration leaks no tensor.
 *
 * Use it with `fitDataset(ds, { epochs })` (a new iteration, and shuffle, per epoch), or
 * with `fitDataset(ds.repeat(), { epochs, batchesPerEpoch: ds.batchesPerEpoch })`.
 * Elements are disposed by `fitDataset` after each step.
 *
 * @example
 * ```ts
 * const ds = samplerDataset(tf, sampler, { batchSize: 1024, shape: 'pointwise', negatives: 4, layout: 'column' })
 * await model.fitDataset(ds, { epochs: 10 })
 * ```
 *
 * @throws TypeError / RangeError for bad arguments (when called).
 */
export function samplerDataset(
  tf: Tf,
  sampler: Sampler,
  options: DatasetOptions<PairwiseTensors> & { shape?: 'pairwise' },
): SamplerDataset
export function samplerDataset(
  tf: Tf,
  sampler: Sampler,
  options: DatasetOptions<PointwiseTensors> & { shape: 'pointwise' },
): SamplerDataset
export function samplerDataset(
  tf: Tf,
  sampler: Sampler,
  options: DatasetOptions<PairwiseTensors> | DatasetOptions<PointwiseTensors>,
): SamplerDataset {
  expectTf(tf, ['data'])
  if (sampler === null || typeof sampler !== 'object' || typeof sampler.shuffledPositives !== 'function') {
    throw new TypeError(`sampler must be a Sampler, got ${describe(sampler)}`)
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object with a batchSize, got ${describe(options)}`)
  }
  const shape = options.shape ?? 'pairwise'
  if (options.map !== undefined && typeof options.map !== 'function') {
    throw new TypeError(`options.map must be a function, got ${describe(options.map)}`)
  }
  const k = options.negatives ?? 1
  const tensorOptions: TensorOptions = { layout: options.layout ?? 'flat', negatives: k }
  const epochOptions = {
    batchSize: options.batchSize,
    negatives: k,
    shape,
    dropLast: options.dropLast ?? false,
    logProbs: options.logProbs ?? false,
    prefetch: options.prefetch ?? 1,
    source: options.source as BatchSource<PairwiseBatch | PointwiseBatch> | undefined,
  }
  // Check every option now (a throwaway pass would take call numbers, so check by hand).
  expectInteger('options.batchSize', options.batchSize, 1)
  expectInteger('options.negatives', k, 1, 2 ** 31 - 1)
  expectInteger('options.prefetch', epochOptions.prefetch, 0, 16)
  if (shape !== 'pairwise' && shape !== 'pointwise') {
    throw new RangeError(`options.shape must be 'pairwise' or 'pointwise', got ${describe(shape)}`)
  }
  shapeOf(0, tensorOptions, 0)
  if (epochOptions.source !== undefined && typeof epochOptions.source !== 'function') {
    throw new TypeError(`options.source must be a function, got ${describe(epochOptions.source)}`)
  }
  const batches = sampler.batchesPerEpoch(options.batchSize, epochOptions.dropLast)
  const stats: DatasetStats = { epochs: 0, batches: 0, positives: 0, waitMs: 0 }
  const map = options.map as ((t: PairwiseTensors | PointwiseTensors) => tfc.TensorContainer) | undefined

  const toElement = (batch: PairwiseBatch | PointwiseBatch): tfc.TensorContainer => {
    const tensors =
      shape === 'pairwise'
        ? pairwiseTensors(tf, batch as PairwiseBatch, tensorOptions)
        : pointwiseTensors(tf, batch as PointwiseBatch, tensorOptions)
    let element: tfc.TensorContainer
    try {
      if (map !== undefined) {
        element = map(tensors)
      } else if (shape === 'pairwise') {
        const t = tensors as PairwiseTensors
        element = { xs: [t.users, t.positives, t.negatives], ys: tf.ones(t.users.shape, 'float32') }
      } else {
        const t = tensors as PointwiseTensors
        element = { xs: [t.users, t.items], ys: t.labels }
      }
    } catch (error) {
      tf.dispose(tensors as unknown as tfc.TensorContainer)
      throw error
    }
    const kept = new Set<tfc.Tensor>()
    collectTensors(tf, element, kept)
    for (const t of Object.values(tensors) as tfc.Tensor[]) {
      if (t !== undefined && !kept.has(t)) t.dispose()
    }
    return element
  }

  const dataset = tf.data.generator(async function* () {
    const epoch = epochAsync(sampler, epochOptions)
    stats.epochs++
    let seen = { batches: 0, positives: 0, waitMs: 0 }
    for await (const batch of epoch) {
      const now = epoch.stats
      stats.batches += now.batches - seen.batches
      stats.positives += now.positives - seen.positives
      stats.waitMs += now.waitMs - seen.waitMs
      seen = { ...now }
      yield toElement(batch)
    }
  } as unknown as () => AsyncIterator<tfc.TensorContainer>)
  Object.defineProperty(dataset, 'size', { value: batches, configurable: true, enumerable: true })
  Object.defineProperty(dataset, 'batchesPerEpoch', { value: batches, enumerable: true })
  Object.defineProperty(dataset, 'stats', { value: stats, enumerable: true })
  return dataset as SamplerDataset
}

// ---------------------------------------------------------------------------------------------
// Embedding lookup with a batch-sized gradient
// ---------------------------------------------------------------------------------------------

/**
 * Rows `table[ids]` (shape `[...ids.shape, dim]`), like `tf.gather(table, ids)`, but with a
 * gradient built by one `scatterND` of the batch's row gradients (duplicates summed): its cost
 * is one pass over the batch plus filling the dense `[vocab, dim]` gradient, instead of
 * `tf.gather`'s `unsortedSegmentSum`, which the CPU backend runs once per vocabulary row (cost
 * `vocab x batch x dim`) and the WASM backend does not have. Works on the CPU, WASM, WebGL and
 * Node backends; use it inside `optimizer.minimize` / `tf.grad` like any op.
 *
 * Ids must be in `[0, vocab)`: out-of-range ids are the backend's behaviour for `tf.gather`.
 *
 * @throws TypeError if `table` is not a float32 rank-2 tensor or `ids` not an int32 tensor.
 */
export function embeddingLookup(tf: TfCore, table: tfc.Tensor, ids: tfc.Tensor): tfc.Tensor {
  expectTf(tf)
  expectTensor(tf, 'table', table, 'float32')
  expectTensor(tf, 'ids', ids, 'int32')
  if (table.rank !== 2) throw new RangeError(`table must have rank 2 ([vocab, dim]), got shape [${table.shape}]`)
  const [vocab, dim] = table.shape as [number, number]
  const outShape = [...ids.shape, dim]
  const wasm = tf.getBackend() === 'wasm'
  return tf.tidy(() => {
    const flat = tf.reshape(ids, [-1, 1])
    const lookup = tf.customGrad(((t: tfc.Tensor, save: tfc.GradSaveFunc) => {
      save([flat])
      return {
        // The WASM backend's GatherV2 walks every element with n-d index arithmetic (about 15 ms
        // for 2,048 x 64 rows); its GatherNd copies whole rows (about 0.1 ms).
        value: tf.reshape(wasm ? tf.gatherND(t, flat) : tf.gather(t, tf.reshape(flat, [-1])), outShape),
        gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]) => {
          const rows = saved[0]!
          return tf.scatterND(rows, tf.reshape(dy, [rows.shape[0]!, dim]), [vocab, dim])
        },
      }
    }) as unknown as Parameters<TfCore['customGrad']>[0])
    return lookup(table)
  })
}

/** A `tf.initializers` initializer (for example `tf.initializers.randomNormal({ stddev: 0.1 })`). */
export type Initializer = ReturnType<Tf['initializers']['randomUniform']>

/** Options of {@link embeddingLayer}. */
export interface EmbeddingLayerOptions {
  /** Vocabulary size: ids are in `[0, inputDim)`. */
  inputDim: number
  /** Embedding width. */
  outputDim: number
  /** Initializer of the table. Default: uniform in [-0.05, 0.05], as `tf.layers.embedding`. */
  embeddingsInitializer?: Initializer
  /** Layer name. */
  name?: string
  /** Whether the table is trained. Default true. */
  trainable?: boolean
}

const layerClasses = new WeakMap<object, new (options: EmbeddingLayerOptions) => tfjs.layers.Layer>()

function layerClass(tf: Tf): new (options: EmbeddingLayerOptions) => tfjs.layers.Layer {
  const cached = layerClasses.get(tf.layers)
  if (cached !== undefined) return cached
  class NegsampleEmbedding extends tf.layers.Layer {
    static className = 'NegsampleEmbedding'
    readonly inputDim: number
    readonly outputDim: number
    readonly #initializer: Initializer
    #table: tfjs.LayerVariable | undefined

    constructor(options: EmbeddingLayerOptions) {
      const args: { name?: string; trainable?: boolean } = {}
      if (options.name !== undefined) args.name = options.name
      if (options.trainable !== undefined) args.trainable = options.trainable
      super(args)
      this.inputDim = options.inputDim
      this.outputDim = options.outputDim
      this.#initializer =
        options.embeddingsInitializer ?? tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 })
    }

    override build(): void {
      this.#table = this.addWeight('embeddings', [this.inputDim, this.outputDim], 'float32', this.#initializer)
      this.built = true
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape
      return [...shape, this.outputDim]
    }

    override call(inputs: tfc.Tensor | tfc.Tensor[]): tfc.Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs
      return tf.tidy(() => {
        const ids = x.dtype === 'int32' ? x : tf.cast(x, 'int32')
        return embeddingLookup(tf, this.#table!.read(), ids)
      })
    }

    override getConfig(): tfc.serialization.ConfigDict {
      return { ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim }
    }
  }
  tf.serialization.registerClass(NegsampleEmbedding as unknown as tfc.serialization.SerializableConstructor<tfc.serialization.Serializable>)
  layerClasses.set(tf.layers, NegsampleEmbedding)
  return NegsampleEmbedding
}

/**
 * A drop-in for `tf.layers.embedding` (table `[inputDim, outputDim]`, output
 * `[...inputShape, outputDim]`) whose gradient costs in proportion to the batch, through
 * {@link embeddingLookup}: trains on the WASM backend, and on the CPU backend without a
 * per-vocabulary-row loop. Registered for serialization as `NegsampleEmbedding`.
 *
 * @throws TypeError / RangeError for a bad `tf` or sizes.
 */
export function embeddingLayer(tf: Tf, options: EmbeddingLayerOptions): tfjs.layers.Layer {
  expectTf(tf, ['layers', 'serialization', 'initializers'])
  expectOptions('options', options)
  expectInteger('options.inputDim', options?.inputDim, 1)
  expectInteger('options.outputDim', options?.outputDim, 1)
  const Layer = layerClass(tf)
  return new Layer(options)
}

// ---------------------------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------------------------

/** How a loss combines its per-example values. */
export type Reduction = 'mean' | 'sum' | 'none'

/** Options shared by the losses. */
export interface LossOptions {
  /** `'mean'` (default: the weighted mean `sum(w * l) / sum(w)`), `'sum'`, or `'none'` (per example). */
  reduction?: Reduction
  /** Per-example weights, broadcastable to the per-example losses. Default: all 1. */
  weights?: tfc.Tensor
}

function reduce(tf: TfCore, losses: tfc.Tensor, options: LossOptions): tfc.Tensor {
  expectOptions('options', options)
  const reduction = options.reduction ?? 'mean'
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new RangeError(`options.reduction must be 'mean', 'sum' or 'none', got ${describe(reduction)}`)
  }
  let weighted = losses
  let total: tfc.Tensor | number = losses.size
  if (options.weights !== undefined) {
    expectTensor(tf, 'options.weights', options.weights, 'float32')
    expectBroadcastsTo('options.weights', options.weights, 'the per-element losses', losses.shape)
    weighted = tf.mul(losses, options.weights)
    total = tf.sum(tf.mul(tf.onesLike(losses), options.weights))
  }
  if (reduction === 'none') return weighted
  if (reduction === 'sum') return tf.sum(weighted)
  return tf.div(tf.sum(weighted), total)
}

function expectFloatTensor(tf: TfCore, name: string, value: unknown): asserts value is tfc.Tensor {
  expectTensor(tf, name, value, 'float32')
}

/**
 * Bayesian personalised ranking loss: `-log sigmoid(pos - neg)` per pair, computed as
 * `softplus(neg - pos)`, which neither overflows nor loses precision for large margins.
 * `positiveScores` and `negativeScores` broadcast together (e.g. `[B]` and `[B]`, or `[B, 1]`
 * and `[B, k]`).
 *
 * @throws TypeError unless both are float32 tensors.
 */
export function bprLoss(
  tf: TfCore,
  positiveScores: tfc.Tensor,
  negativeScores: tfc.Tensor,
  options: LossOptions = {},
): tfc.Tensor {
  expectTf(tf)
  expectFloatTensor(tf, 'positiveScores', positiveScores)
  expectFloatTensor(tf, 'negativeScores', negativeScores)
  if (!broadcastTogether(positiveScores.shape, negativeScores.shape)) {
    throw new RangeError(
      `negativeScores has shape [${negativeScores.shape}], which does not broadcast with positiveScores' shape [${positiveScores.shape}]`,
    )
  }
  return tf.tidy(() => reduce(tf, tf.softplus(tf.sub(negativeScores, positiveScores)), options))
}

/**
 * Binary cross-entropy from logits: `-(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))` per
 * element, computed as `max(x, 0) - x y + softplus(-|x|)` (stable for any `x`). For a positive
 * and its `k` negatives, pass logits `[B, 1 + k]` with labels `[B, 1 + k]` (column 0 = 1), or
 * the flat pointwise layout.
 *
 * @throws TypeError unless `logits` and `labels` are float32 tensors.
 */
export function bceWithLogitsLoss(tf: TfCore, logits: tfc.Tensor, labels: tfc.Tensor, options: LossOptions = {}): tfc.Tensor {
  expectTf(tf)
  expectFloatTensor(tf, 'logits', logits)
  expectFloatTensor(tf, 'labels', labels)
  expectBroadcastsTo('labels', labels, 'logits', logits.shape)
  return tf.tidy(() => {
    const perElement = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.softplus(tf.neg(tf.abs(logits))))
    return reduce(tf, perElement, options)
  })
}

/** Options of {@link sampledSoftmaxLoss}. */
export interface SampledSoftmaxOptions extends LossOptions {
  /**
   * `log Q` of each column's item under the sampling distribution, subtracted from the logits
   * (the logQ correction): `[B, C]`, or `[C]` for candidates shared by every row.
   */
  logQ?: tfc.Tensor
  /**
   * Accidental hits: 1 (or `true`) where a column's candidate is a positive of the row's user
   * and must not count as a negative; `[B, C]`. Masked logits become -1e9. The target column is
   * never masked.
   */
  mask?: tfc.Tensor
  /** Where each row's positive is: column 0 (`'first'`, default) or column `row` (`'diagonal'`, in-batch negatives). */
  positive?: 'first' | 'diagonal'
}

/** The logit that masked candidates get: far below any real logit, yet finite (no NaN in softmax). */
const MASKED_LOGIT = -1e9

/**
 * Sampled softmax cross-entropy: per row, `-log softmax(logits - logQ)[target]`, with accidental
 * hits masked out. `logits` is `[B, C]`: the positive in column 0 and sampled candidates after it
 * (`positive: 'first'`), or a `[B, B]` in-batch matrix with positives on the diagonal
 * (`positive: 'diagonal'`). Computed with a max-shifted log-sum-exp (stable).
 *
 * @throws TypeError for non-float32 `logits` / `logQ`; RangeError unless `logits` is rank 2 (and
 *   square for `'diagonal'`).
 */
export function sampledSoftmaxLoss(tf: TfCore, logits: tfc.Tensor, options: SampledSoftmaxOptions = {}): tfc.Tensor {
  expectTf(tf)
  expectFloatTensor(tf, 'logits', logits)
  expectOptions('options', options)
  if (logits.rank !== 2) throw new RangeError(`logits must have rank 2 ([rows, candidates]), got shape [${logits.shape}]`)
  const [rows, columns] = logits.shape as [number, number]
  const positive = options.positive ?? 'first'
  if (positive !== 'first' && positive !== 'diagonal') {
    throw new RangeError(`options.positive must be 'first' or 'diagonal', got ${describe(positive)}`)
  }
  if (positive === 'diagonal' && rows !== columns) {
    throw new RangeError(`logits must be square for positive 'diagonal', got shape [${logits.shape}]`)
  }
  if (options.logQ !== undefined) {
    expectFloatTensor(tf, 'options.logQ', options.logQ)
    expectBroadcastsTo('options.logQ', options.logQ, 'logits', logits.shape)
  }
  if (options.mask !== undefined) {
    expectTensor(tf, 'options.mask', options.mask)
    expectBroadcastsTo('options.mask', options.mask, 'logits', logits.shape)
  }
  return tf.tidy(() => {
    const target =
      positive === 'first'
        ? tf.cast(tf.oneHot(tf.zeros([rows], 'int32'), columns), 'bool')
        : tf.cast(tf.eye(rows), 'bool')
    let corrected = options.logQ === undefined ? logits : tf.sub(logits, options.logQ)
    if (options.mask !== undefined) {
      const drop = tf.logicalAnd(tf.cast(options.mask, 'bool'), tf.logicalNot(target))
      corrected = tf.where(drop, tf.fill([rows, columns], MASKED_LOGIT), corrected)
    }
    const targetLogit = tf.sum(tf.where(target, corrected, tf.zerosLike(corrected)), 1)
    return reduce(tf, tf.sub(tf.logSumExp(corrected, 1), targetLogit), options)
  })
}

// ---------------------------------------------------------------------------------------------
// Row-sparse optimizers
// ---------------------------------------------------------------------------------------------

export {
  lookupGradients,
  sparseAdagrad,
  sparseAdam,
  sparseSgd,
  type LookupGradients,
  type RowLookup,
  type SparseAdagradOptions,
  type SparseAdamOptions,
  type SparseOptimizer,
  type SparseOptimizerOptions,
  type SparseSgdOptions,
} from './sparse-optim'
