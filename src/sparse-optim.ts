/**
 * Row-sparse optimizers for embedding tables (re-exported by `negsample/tfjs`): the
 * TensorFlow.js counterparts of PyTorch's `SparseAdam` and TensorFlow Addons' `LazyAdam`.
 *
 * A step reads only the rows of the batch: gather the touched rows (and their optimizer state),
 * compute the update on them, scatter them back with `tf.tensorScatterUpdate`. Duplicate ids in
 * a batch have their gradients summed first (one `tf.scatterND`), exactly as a dense optimizer
 * sees them.
 */
import type * as tfc from '@tensorflow/tfjs-core'
import { describe, expectOptions } from './errors'

type TfCore = typeof tfc

function expectTfNamespace(tf: unknown): void {
  const ns = tf as Record<string, unknown> | null
  if (ns === null || (typeof ns !== 'object' && typeof ns !== 'function') || typeof ns.tensor1d !== 'function') {
    throw new TypeError(
      `tf must be the TensorFlow.js namespace (import * as tf from '@tensorflow/tfjs'), got ${describe(tf)}`,
    )
  }
  for (const name of ['tensorScatterUpdate', 'scatterND', 'gatherND', 'Variable', 'valueAndGrads']) {
    if (ns[name] === undefined) throw new TypeError(`tf.${name} is missing: pass the namespace of '@tensorflow/tfjs' 4.x`)
  }
}

function option(name: string, value: unknown, fallback: number, min: number, max: number, maxOpen = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`)
  if (!(value >= min) || !(maxOpen ? value < max : value <= max)) {
    throw new RangeError(`${name} must be in [${min}, ${max}${maxOpen ? ')' : ']'}, got ${value}`)
  }
  return value
}

/** A checked table: a float32 rank-2 `tf.Variable`. */
function expectTable(tf: TfCore, name: string, table: unknown): asserts table is tfc.Variable {
  if (!(table instanceof tf.Variable)) {
    throw new TypeError(`${name} must be a tf.Variable (tf.variable(...)), got ${table instanceof tf.Tensor ? `a tf.Tensor of shape [${table.shape}]` : describe(table)}`)
  }
  if (table.isDisposed) throw new TypeError(`${name} has been disposed (a tf.Variable of shape [${table.shape}])`)
  if (table.dtype !== 'float32') throw new TypeError(`${name} must have dtype 'float32', got '${table.dtype}'`)
  if (table.rank !== 2) throw new RangeError(`${name} must have rank 2 ([vocab, dim]), got shape [${table.shape}]`)
}

/** Checks `ids` (int32, every value in [0, vocab)) and returns its values. */
function expectIds(tf: TfCore, name: string, ids: unknown, vocab: number): Int32Array {
  if (!(ids instanceof tf.Tensor)) throw new TypeError(`${name} must be a tf.Tensor, got ${describe(ids)}`)
  if (ids.isDisposed) throw new TypeError(`${name} has been disposed (a tf.Tensor of shape [${ids.shape}])`)
  if (ids.dtype !== 'int32') throw new TypeError(`${name} must have dtype 'int32', got '${ids.dtype}'`)
  const values = ids.dataSync() as Int32Array
  for (let j = 0; j < values.length; j++) {
    const id = values[j]!
    if (id < 0 || id >= vocab) throw new RangeError(`${name} holds ${id} at position ${j}, outside [0, ${vocab}) (the table's rows)`)
  }
  return values
}

/** A step's checked inputs: the distinct ids (first-occurrence order) and each id's slot among them. */
interface Prepared {
  table: tfc.Variable
  grads: tfc.Tensor
  unique: Int32Array
  /** `slot[j]`: index in `unique` of `ids[j]`; null when the ids are distinct (slot j = j). */
  slot: Int32Array | null
}

function prepare(tf: TfCore, table: unknown, ids: unknown, grads: unknown, names = ['table', 'ids', 'grads']): Prepared {
  expectTable(tf, names[0]!, table)
  const [vocab, dim] = table.shape as [number, number]
  const values = expectIds(tf, names[1]!, ids, vocab)
  const idShape = (ids as tfc.Tensor).shape
  if (!(grads instanceof tf.Tensor)) throw new TypeError(`${names[2]} must be a tf.Tensor, got ${describe(grads)}`)
  if (grads.isDisposed) throw new TypeError(`${names[2]} has been disposed (a tf.Tensor of shape [${grads.shape}])`)
  if (grads.dtype !== 'float32') throw new TypeError(`${names[2]} must have dtype 'float32', got '${grads.dtype}'`)
  const want = [...idShape, dim]
  if (grads.rank !== want.length || (grads.shape as number[]).some((s: number, j: number) => s !== want[j])) {
    throw new RangeError(`${names[2]} has shape [${grads.shape}], expected [${want}] (${names[1]}'s shape, then the table's dim)`)
  }
  const index = new Map<number, number>()
  const slot = new Int32Array(values.length)
  const unique: number[] = []
  for (let j = 0; j < values.length; j++) {
    const id = values[j]!
    let s = index.get(id)
    if (s === undefined) {
      s = unique.length
      index.set(id, s)
      unique.push(id)
    }
    slot[j] = s
  }
  return { table, grads, unique: Int32Array.from(unique), slot: unique.length === values.length ? null : slot }
}

/** Options shared by the sparse optimizers. */
export interface SparseOptimizerOptions {
  /** Step size. Default: 0.01 for SGD and Adagrad, 0.001 for Adam. */
  learningRate?: number
  /**
   * L2 penalty (weight decay) on the rows in the batch only: each touched row's gradient
   * becomes `grad + l2 * row` before the update; rows not in the batch are not decayed.
   * Default 0.
   */
  l2?: number
}

/** Options of {@link sparseSgd}. */
export type SparseSgdOptions = SparseOptimizerOptions

/** Options of {@link sparseAdagrad}. */
export interface SparseAdagradOptions extends SparseOptimizerOptions {
  /** Starting value of every accumulator entry. Default 0.1 (as `tf.train.adagrad`). */
  initialAccumulatorValue?: number
  /** Added to the accumulator under the square root. Default 1e-7 (TensorFlow.js's float32 epsilon). */
  epsilon?: number
}

/** Options of {@link sparseAdam}. */
export interface SparseAdamOptions extends SparseOptimizerOptions {
  /** Decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number
  /** Decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number
  /** Added to the bias-corrected root second moment. Default 1e-7 (as `tf.train.adam`). */
  epsilon?: number
}

/** One embedding lookup for {@link lookupGradients} and {@link SparseOptimizer.minimize}. */
export interface RowLookup {
  /** A float32 `[vocab, dim]` `tf.Variable`. */
  table: tfc.Variable
  /** int32 ids in `[0, vocab)`, any shape: the rows are `[...ids.shape, dim]`. */
  ids: tfc.Tensor
}

/** What {@link lookupGradients} returns (the caller disposes every tensor). */
export interface LookupGradients {
  /** The loss. */
  value: tfc.Scalar
  /** Per lookup, the gradient of the loss with respect to its rows: `[...ids.shape, dim]`. */
  grads: tfc.Tensor[]
}

/**
 * A row-sparse optimizer for embedding tables: keeps its state (Adam's moments, Adagrad's
 * accumulator) per table in `tf.Variable`s of the table's shape, created at the table's first
 * step, and updates only the rows of each batch.
 */
export interface SparseOptimizer {
  /** `'sgd'`, `'adagrad'` or `'adam'`. */
  readonly kind: 'sgd' | 'adagrad' | 'adam'
  /**
   * Applies one step to the rows `ids` of `table` with their gradients `grads`
   * (`[...ids.shape, dim]`): the gradients of duplicate ids are summed, then each distinct row
   * (and its state) is updated once. Costs O(batch x dim) arithmetic; see the guide for the
   * copy `tf.tensorScatterUpdate` makes on backends other than CPU. Every argument is checked
   * before anything is written: a rejected step changes neither the table nor the state.
   *
   * @throws TypeError if `table` is not a float32 `tf.Variable`, `ids` not an int32 tensor or
   *   `grads` not a float32 tensor (or one was disposed, or the optimizer was).
   * @throws RangeError if `table` is not rank 2, an id is outside `[0, vocab)`, or `grads` has
   *   another shape than `[...ids.shape, dim]`.
   */
  step(table: tfc.Variable, ids: tfc.Tensor, grads: tfc.Tensor): void
  /**
   * Computes `loss` on the looked-up rows ({@link lookupGradients}) and applies one
   * {@link SparseOptimizer.step} per distinct table, with the ids and gradients of all its
   * lookups concatenated (so a table looked up twice, such as items for positives and
   * negatives, takes one step with duplicates summed). Returns the loss (the caller disposes it).
   *
   * @throws TypeError / RangeError as {@link lookupGradients} and {@link SparseOptimizer.step};
   *   nothing is updated then.
   */
  minimize(lookups: readonly RowLookup[], loss: (rows: tfc.Tensor[]) => tfc.Scalar): tfc.Scalar
  /** Steps taken on `table` (Adam's `t` for its next step is this plus 1); 0 for a table never stepped. */
  iterations(table: tfc.Variable): number
  /** The state variables of `table` (Adam: `[m, v]`, Adagrad: `[accumulator]`, SGD: `[]`); empty before its first step. */
  slots(table: tfc.Variable): tfc.Variable[]
  /** Disposes the state of every table. The optimizer cannot step afterwards. */
  dispose(): void
}

interface TableState {
  slots: tfc.Variable[]
  steps: number
}

/**
 * Rows `ids` of the rank-2 `t` as a `[ids.length, dim]` tensor; `indices` holds the same ids as
 * an int32 `[n, 1]` tensor. The CPU backend's GatherV2 computes an n-d index per element (about
 * 10 ms for 2,048 x 64 rows) and its GatherNd is slower still; there `dataSync` hands back the
 * tensor's own buffer, so the rows are copied from it in JavaScript (about 0.1 ms). The WASM
 * backend's GatherNd copies whole rows; other backends use tf.gather.
 */
function gatherRows(tf: TfCore, t: tfc.Tensor, ids: Int32Array, indices: tfc.Tensor): tfc.Tensor {
  const backend = tf.getBackend()
  if (backend === 'cpu') {
    const dim = t.shape[1]!
    return tf.tensor2d(copyRows(t.dataSync() as Float32Array, ids, dim), [ids.length, dim], 'float32')
  }
  return backend === 'wasm' ? tf.gatherND(t, indices) : tf.gather(t, tf.reshape(indices, [-1]))
}

interface Rule {
  kind: SparseOptimizer['kind']
  /** Initial value of each slot (one per slot). */
  init: number[]
  /** New rows and new slot rows from the rows, the slot rows, the merged gradient and the step number t. */
  update(tf: TfCore, rows: tfc.Tensor, slots: tfc.Tensor[], g: tfc.Tensor, t: number): [tfc.Tensor, ...tfc.Tensor[]]
  /**
   * The same update in JavaScript, in place on the gathered values (each element computed in
   * float64 and stored as float32), for the CPU backend, whose binary kernels take about 6 ms
   * per 2^18 elements (an Adam update is a dozen of them).
   */
  updateArrays(rows: Float32Array, slots: Float32Array[], g: Float64Array, t: number): void
}

/** Rows `ids` of a `[vocab, dim]` buffer, copied. */
function copyRows(src: Float32Array, ids: Int32Array, dim: number): Float32Array {
  const out = new Float32Array(ids.length * dim)
  for (let j = 0; j < ids.length; j++) out.set(src.subarray(ids[j]! * dim, (ids[j]! + 1) * dim), j * dim)
  return out
}

function makeOptimizer(tf: TfCore, rule: Rule, l2: number): SparseOptimizer {
  const states = new Map<tfc.Variable, TableState>()
  let disposed = false
  const alive = (): void => {
    if (disposed) throw new TypeError(`this sparse ${rule.kind} optimizer has been disposed`)
  }
  const apply = (p: Prepared): void => {
    let state = states.get(p.table)
    if (state === undefined) {
      const [vocab, dim] = p.table.shape as [number, number]
      const slots = tf.tidy(() => rule.init.map((v) => tf.variable(tf.fill([vocab, dim], v, 'float32'), false)))
      state = { slots, steps: 0 }
      states.set(p.table, state)
      // The CPU backend's TensorScatterUpdate writes into its input's buffer: give the table a
      // buffer of its own, so that the tensor it was made from (tf.variable(t) shares t's
      // buffer) keeps its values.
      if (tf.getBackend() === 'cpu') tf.tidy(() => p.table.assign(tf.mul(p.table, tf.scalar(1))))
    }
    const t = ++state.steps
    const u = p.unique.length
    if (u === 0) return
    const dim = p.table.shape[1]!
    const slots = state.slots
    if (tf.getBackend() === 'cpu') {
      // The gathered rows, merged gradient and update in JavaScript; dataSync hands back the
      // buffers themselves on this backend (no copy of the table).
      const grads = p.grads.dataSync() as Float32Array
      const g = new Float64Array(u * dim)
      for (let j = 0; j < grads.length / dim; j++) {
        const at = (p.slot === null ? j : p.slot[j]!) * dim
        for (let d = 0; d < dim; d++) g[at + d]! += grads[j * dim + d]!
      }
      const rows = copyRows(p.table.dataSync() as Float32Array, p.unique, dim)
      if (l2 > 0) for (let k = 0; k < g.length; k++) g[k]! += l2 * rows[k]!
      const slotRows = slots.map((s) => copyRows(s.dataSync() as Float32Array, p.unique, dim))
      rule.updateArrays(rows, slotRows, g, t)
      tf.tidy(() => {
        const indices = tf.tensor2d(p.unique, [u, 1], 'int32')
        p.table.assign(tf.tensorScatterUpdate(p.table, indices, tf.tensor2d(rows, [u, dim], 'float32')))
        slots.forEach((s, j) => s.assign(tf.tensorScatterUpdate(s, indices, tf.tensor2d(slotRows[j]!, [u, dim], 'float32'))))
      })
      return
    }
    tf.tidy(() => {
      const indices = tf.tensor2d(p.unique, [u, 1], 'int32')
      const flat = tf.reshape(p.grads, [-1, dim])
      const merged = p.slot === null ? flat : tf.scatterND(tf.tensor2d(p.slot, [p.slot.length, 1], 'int32'), flat, [u, dim])
      const rows = gatherRows(tf, p.table, p.unique, indices)
      const g = l2 > 0 ? tf.add(merged, tf.mul(rows, tf.scalar(l2))) : merged
      const [newRows, ...newSlots] = rule.update(tf, rows, slots.map((s) => gatherRows(tf, s, p.unique, indices)), g, t)
      p.table.assign(tf.tensorScatterUpdate(p.table, indices, newRows))
      slots.forEach((s, j) => s.assign(tf.tensorScatterUpdate(s, indices, newSlots[j]!)))
    })
  }
  return {
    kind: rule.kind,
    step(table, ids, grads) {
      alive()
      apply(prepare(tf, table, ids, grads))
    },
    minimize(lookups, loss) {
      alive()
      const { value, grads } = lookupGradients(tf, lookups, loss)
      try {
        const byTable = new Map<tfc.Variable, number[]>()
        lookups.forEach((l, j) => byTable.set(l.table, [...(byTable.get(l.table) ?? []), j]))
        const prepared: Prepared[] = []
        const made: tfc.Tensor[] = []
        try {
          for (const [table, js] of byTable) {
            if (js.length === 1) {
              prepared.push(prepare(tf, table, lookups[js[0]!]!.ids, grads[js[0]!]!))
              continue
            }
            const dim = table.shape[1]!
            const ids = tf.tidy(() => tf.concat(js.map((j) => tf.reshape(lookups[j]!.ids, [-1]))))
            const g = tf.tidy(() => tf.concat(js.map((j) => tf.reshape(grads[j]!, [-1, dim]))))
            made.push(ids, g)
            prepared.push(prepare(tf, table, ids, g))
          }
          for (const p of prepared) apply(p)
        } finally {
          tf.dispose(made)
        }
      } catch (error) {
        value.dispose()
        throw error
      } finally {
        tf.dispose(grads)
      }
      return value
    },
    iterations(table) {
      return states.get(table)?.steps ?? 0
    },
    slots(table) {
      return [...(states.get(table)?.slots ?? [])]
    },
    dispose() {
      disposed = true
      for (const s of states.values()) tf.dispose(s.slots)
      states.clear()
    },
  }
}

/**
 * The gradient of `loss` with respect to the rows it reads: gathers `table[ids]` for each
 * lookup (without recording a gradient for the table) and returns the loss and, per lookup,
 * `d loss / d rows` (`[...ids.shape, dim]`, duplicates not yet summed), ready for
 * {@link SparseOptimizer.step}. Costs O(batch x dim); the dense `[vocab, dim]` gradient is never
 * built.
 *
 * @example
 * ```ts
 * const { value, grads } = lookupGradients(tf, [{ table: users, ids: u }, { table: items, ids: i }],
 *   ([ru, ri]) => tf.neg(tf.mean(tf.logSigmoid(tf.sum(tf.mul(ru, ri), 1)))))
 * ```
 *
 * @throws TypeError / RangeError for a bad table or ids (as {@link SparseOptimizer.step}), or if
 *   `loss` is not a function.
 */
export function lookupGradients(
  tf: TfCore,
  lookups: readonly RowLookup[],
  loss: (rows: tfc.Tensor[]) => tfc.Scalar,
): LookupGradients {
  expectTfNamespace(tf)
  if (!Array.isArray(lookups)) throw new TypeError(`lookups must be an array of { table, ids }, got ${describe(lookups)}`)
  if (typeof loss !== 'function') throw new TypeError(`loss must be a function, got ${describe(loss)}`)
  const values = lookups.map((l, j) => {
    if (l === null || typeof l !== 'object') throw new TypeError(`lookups[${j}] must be { table, ids }, got ${describe(l)}`)
    expectTable(tf, `lookups[${j}].table`, l.table)
    return expectIds(tf, `lookups[${j}].ids`, l.ids, l.table.shape[0]!)
  })
  const rows = lookups.map((l, j) =>
    tf.tidy(() => tf.reshape(gatherRows(tf, l.table, values[j]!, tf.reshape(l.ids, [-1, 1])), [...l.ids.shape, l.table.shape[1]!])),
  )
  try {
    const { value, grads } = tf.valueAndGrads((...r: tfc.Tensor[]) => loss(r))(rows)
    return { value: value as tfc.Scalar, grads }
  } finally {
    tf.dispose(rows)
  }
}

function commonOptions(tf: unknown, options: unknown, defaultRate: number): { lr: number; l2: number } {
  expectTfNamespace(tf)
  expectOptions('options', options)
  const o = (options ?? {}) as SparseOptimizerOptions
  return {
    lr: option('options.learningRate', o.learningRate, defaultRate, 0, Number.MAX_VALUE),
    l2: option('options.l2', o.l2, 0, 0, Number.MAX_VALUE),
  }
}

/**
 * Row-sparse SGD: for each distinct row `r` of the batch, with `g` its summed gradient (plus
 * `l2 * row`), `row -= learningRate * g`. Rows not in the batch do not change. With every row
 * in every batch and `l2 = 0` it is `tf.train.sgd`.
 *
 * @throws TypeError / RangeError for a bad `tf` or options.
 */
export function sparseSgd(tf: TfCore, options: SparseSgdOptions = {}): SparseOptimizer {
  const { lr, l2 } = commonOptions(tf, options, 0.01)
  return makeOptimizer(
    tf,
    {
      kind: 'sgd',
      init: [],
      update: (tf, rows, _s, g) => [tf.sub(rows, tf.mul(g, tf.scalar(lr)))],
      updateArrays: (rows, _s, g) => {
        for (let k = 0; k < rows.length; k++) rows[k] = rows[k]! - lr * g[k]!
      },
    },
    l2,
  )
}

/**
 * Row-sparse Adagrad: for each distinct row of the batch, with `g` its summed gradient (plus
 * `l2 * row`), `acc += g^2; row -= learningRate * g / sqrt(acc + epsilon)` (the formula of
 * `tf.train.adagrad`). The accumulator of a row not in the batch is unchanged, as Adagrad's
 * would be for a zero gradient, so with `l2 = 0` this equals `tf.train.adagrad` exactly in
 * exact arithmetic, whichever rows a batch touches.
 *
 * @throws TypeError / RangeError for a bad `tf` or options.
 */
export function sparseAdagrad(tf: TfCore, options: SparseAdagradOptions = {}): SparseOptimizer {
  const { lr, l2 } = commonOptions(tf, options, 0.01)
  const init = option('options.initialAccumulatorValue', options.initialAccumulatorValue, 0.1, 0, Number.MAX_VALUE)
  const eps = option('options.epsilon', options.epsilon, 1e-7, 0, Number.MAX_VALUE)
  return makeOptimizer(
    tf,
    {
      kind: 'adagrad',
      init: [init],
      update: (tf, rows, [acc], g) => {
        const a = tf.add(acc!, tf.square(g))
        return [tf.sub(rows, tf.mul(tf.div(g, tf.sqrt(tf.add(a, tf.scalar(eps)))), tf.scalar(lr))), a]
      },
      updateArrays: (rows, [acc], g) => {
        for (let k = 0; k < rows.length; k++) {
          const a = (acc![k] = acc![k]! + g[k]! * g[k]!)
          rows[k] = rows[k]! - (lr * g[k]!) / Math.sqrt(a + eps)
        }
      },
    },
    l2,
  )
}

/**
 * Lazy Adam (TensorFlow Addons' `LazyAdam`, PyTorch's `SparseAdam`): for each distinct row of
 * the batch, with `g` its summed gradient (plus `l2 * row`) and `t` the number of steps this
 * optimizer has taken on the table, this one included:
 * `m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
 * row -= learningRate * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)`
 * (the formula of `tf.train.adam`).
 *
 * Rows not in the batch are not updated and their moments are not decayed (a dense Adam would
 * decay them and keep moving the row by its momentum); `t` counts every step on the table,
 * including those that skipped a row, so a row's bias correction is the global one. With every
 * row in every batch this is `tf.train.adam`.
 *
 * @throws TypeError / RangeError for a bad `tf` or options.
 */
export function sparseAdam(tf: TfCore, options: SparseAdamOptions = {}): SparseOptimizer {
  const { lr, l2 } = commonOptions(tf, options, 0.001)
  const beta1 = option('options.beta1', options.beta1, 0.9, 0, 1, true)
  const beta2 = option('options.beta2', options.beta2, 0.999, 0, 1, true)
  const eps = option('options.epsilon', options.epsilon, 1e-7, 0, Number.MAX_VALUE)
  return makeOptimizer(
    tf,
    {
      kind: 'adam',
      init: [0, 0],
      update: (tf, rows, [m0, v0], g, t) => {
        const m = tf.add(tf.mul(m0!, tf.scalar(beta1)), tf.mul(g, tf.scalar(1 - beta1)))
        const v = tf.add(tf.mul(v0!, tf.scalar(beta2)), tf.mul(tf.square(g), tf.scalar(1 - beta2)))
        const mHat = tf.div(m, tf.scalar(1 - beta1 ** t))
        const vHat = tf.div(v, tf.scalar(1 - beta2 ** t))
        const delta = tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), tf.scalar(eps))), tf.scalar(lr))
        return [tf.sub(rows, delta), m, v]
      },
      updateArrays: (rows, [m, v], g, t) => {
        const c1 = 1 - beta1 ** t
        const c2 = 1 - beta2 ** t
        for (let k = 0; k < rows.length; k++) {
          const mk = (m![k] = beta1 * m![k]! + (1 - beta1) * g[k]!)
          const vk = (v![k] = beta2 * v![k]! + (1 - beta2) * g[k]! * g[k]!)
          rows[k] = rows[k]! - (lr * (mk / c1)) / (Math.sqrt(vk / c2) + eps)
        }
      },
    },
    l2,
  )
}
