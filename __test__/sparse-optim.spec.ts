/**
 * negsample/tfjs row-sparse optimizers (sparseSgd, sparseAdagrad, sparseAdam, lookupGradients)
 * on the TensorFlow.js CPU and WASM backends: each against its formula computed in plain
 * JavaScript (float64) over several steps with duplicate ids and never-touched rows, lazy Adam's
 * semantics for rows absent from a batch, equality with tf.train.* when every row is in every
 * batch, and every bad input rejected before anything is written.
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'

import { embeddingLookup, lookupGradients, sparseAdagrad, sparseAdam, sparseSgd } from '../src/tfjs'
import type { SparseOptimizer } from '../src/tfjs'

type Kind = 'sgd' | 'adagrad' | 'adam'
interface Opts {
  learningRate: number
  l2: number
  beta1: number
  beta2: number
  epsilon: number
  initialAccumulatorValue: number
}
const OPTS: Opts = { learningRate: 0.05, l2: 0, beta1: 0.8, beta2: 0.95, epsilon: 1e-7, initialAccumulatorValue: 0.1 }

function make(kind: Kind, o: Opts): SparseOptimizer {
  if (kind === 'sgd') return sparseSgd(tf, { learningRate: o.learningRate, l2: o.l2 })
  if (kind === 'adagrad') {
    return sparseAdagrad(tf, { learningRate: o.learningRate, l2: o.l2, epsilon: o.epsilon, initialAccumulatorValue: o.initialAccumulatorValue })
  }
  return sparseAdam(tf, { learningRate: o.learningRate, l2: o.l2, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon })
}

/** The reference: a table and its state in float64, stepped by the documented formulas. */
class Reference {
  readonly table: Float64Array
  readonly slots: Float64Array[]
  t = 0
  constructor(
    readonly kind: Kind,
    readonly o: Opts,
    initial: Float32Array,
    readonly dim: number,
  ) {
    this.table = Float64Array.from(initial)
    const n = initial.length
    this.slots =
      kind === 'sgd' ? [] : kind === 'adagrad' ? [new Float64Array(n).fill(o.initialAccumulatorValue)] : [new Float64Array(n), new Float64Array(n)]
  }
  step(ids: ArrayLike<number>, grads: ArrayLike<number>): void {
    const { dim, o } = this
    this.t++
    const merged = new Map<number, Float64Array>()
    for (let j = 0; j < ids.length; j++) {
      const g = merged.get(ids[j]!) ?? new Float64Array(dim)
      for (let d = 0; d < dim; d++) g[d]! += grads[j * dim + d]!
      merged.set(ids[j]!, g)
    }
    for (const [id, sum] of merged) {
      for (let d = 0; d < dim; d++) {
        const k = id * dim + d
        const g = sum[d]! + o.l2 * this.table[k]!
        if (this.kind === 'sgd') {
          this.table[k]! -= o.learningRate * g
        } else if (this.kind === 'adagrad') {
          const a = (this.slots[0]![k]! += g * g)
          this.table[k]! -= (o.learningRate * g) / Math.sqrt(a + o.epsilon)
        } else {
          const m = (this.slots[0]![k] = o.beta1 * this.slots[0]![k]! + (1 - o.beta1) * g)
          const v = (this.slots[1]![k] = o.beta2 * this.slots[1]![k]! + (1 - o.beta2) * g * g)
          const mHat = m / (1 - o.beta1 ** this.t)
          const vHat = v / (1 - o.beta2 ** this.t)
          this.table[k]! -= (o.learningRate * mHat) / (Math.sqrt(vHat) + o.epsilon)
        }
      }
    }
  }
}

/** Seeded values in [-0.5, 0.5) (mulberry32). */
function random(seed: number, n: number): Float32Array {
  let a = seed >>> 0
  const out = new Float32Array(n)
  for (let j = 0; j < n; j++) {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[j] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5
  }
  return out
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance = 2e-5): void {
  expect(got.length).toBe(want.length)
  for (let j = 0; j < want.length; j++) {
    const scale = Math.max(1, Math.abs(want[j]!))
    expect(Math.abs(got[j]! - want[j]!) / scale, `at ${j}: ${got[j]} vs ${want[j]}`).toBeLessThan(tolerance)
  }
}

/** Bit-level copy of a tensor's values (not a tensor: tf.clone shares the buffer). */
function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer)
}

function rowBits(t: tf.Tensor, row: number, dim: number): number[] {
  return Array.from(bits(t).subarray(row * dim, (row + 1) * dim))
}

const KINDS: Kind[] = ['sgd', 'adagrad', 'adam']
const VOCAB = 10
const DIM = 3
/** Batches over a 10-row table: duplicates in batches 0, 1 and 3; rows 8 and 9 never touched; row 7 only in batch 0. */
const BATCHES = [
  [0, 3, 3, 7, 1],
  [2, 2, 2, 0],
  [5, 4, 6],
  [1, 3, 1, 5, 0, 6],
]

describe.each(['cpu', 'wasm'])('sparse optimizers on the %s backend', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend)
    await tf.ready()
    expect(tf.getBackend()).toBe(backend)
  })

  describe.each(KINDS)('%s', (kind) => {
    it('one step: the touched rows follow the formula, the others keep their bits', () => {
      const initial = random(1, VOCAB * DIM)
      const table = tf.variable(tf.tensor2d(initial, [VOCAB, DIM]))
      const opt = make(kind, OPTS)
      const ref = new Reference(kind, OPTS, initial, DIM)
      const ids = [4, 1, 4]
      const g = random(2, ids.length * DIM)
      const before = bits(table)
      opt.step(table, tf.tensor1d(ids, 'int32'), tf.tensor2d(g, [ids.length, DIM]))
      ref.step(ids, g)
      const got = table.dataSync()
      for (const row of [1, 4]) {
        expectClose(got.subarray(row * DIM, (row + 1) * DIM), ref.table.subarray(row * DIM, (row + 1) * DIM))
        expect(rowBits(table, row, DIM)).not.toEqual(Array.from(before.subarray(row * DIM, (row + 1) * DIM)))
      }
      const after = bits(table)
      for (let row = 0; row < VOCAB; row++) {
        if (row === 1 || row === 4) continue
        expect(Array.from(after.subarray(row * DIM, (row + 1) * DIM)), `row ${row}`).toEqual(Array.from(before.subarray(row * DIM, (row + 1) * DIM)))
      }
      expect(opt.iterations(table)).toBe(1)
      opt.dispose()
      table.dispose()
    })

    it.each([0, 0.1])('several steps with duplicates (l2 %s): the whole table and state match the reference; untouched rows stay bit-identical', (l2) => {
      const o = { ...OPTS, l2 }
      const initial = random(3, VOCAB * DIM)
      const source = tf.tensor2d(initial, [VOCAB, DIM])
      const table = tf.variable(source)
      const opt = make(kind, o)
      const ref = new Reference(kind, o, initial, DIM)
      const start = bits(table)
      const tensorsBefore = tf.memory().numTensors
      BATCHES.forEach((ids, s) => {
        const g = random(10 + s, ids.length * DIM)
        const idsT = tf.tensor1d(ids, 'int32')
        const gT = tf.tensor2d(g, [ids.length, DIM])
        opt.step(table, idsT, gT)
        tf.dispose([idsT, gT])
        ref.step(ids, g)
      })
      // The slots are created at the first step; nothing else stays.
      expect(tf.memory().numTensors - tensorsBefore).toBe(opt.slots(table).length)
      expectClose(table.dataSync(), ref.table)
      opt.slots(table).forEach((slot, j) => expectClose(slot.dataSync(), ref.slots[j]!))
      for (const row of [8, 9]) expect(rowBits(table, row, DIM)).toEqual(Array.from(start.subarray(row * DIM, (row + 1) * DIM)))
      // The tensor the variable was made from keeps its values (the CPU kernel writes in place).
      expect(Array.from(bits(source))).toEqual(Array.from(start))
      expect(opt.iterations(table)).toBe(BATCHES.length)
      opt.dispose()
      tf.dispose([table, source])
    })

    it('equals tf.train.' + kind + ' when every row is in every batch (with duplicates)', () => {
      const initial = random(5, VOCAB * DIM)
      const sparse = tf.variable(tf.tensor2d(initial, [VOCAB, DIM]))
      const dense = tf.variable(tf.tensor2d(initial, [VOCAB, DIM]))
      const opt = make(kind, OPTS)
      const denseOpt =
        kind === 'sgd'
          ? tf.train.sgd(OPTS.learningRate)
          : kind === 'adagrad'
            ? tf.train.adagrad(OPTS.learningRate, OPTS.initialAccumulatorValue)
            : tf.train.adam(OPTS.learningRate, OPTS.beta1, OPTS.beta2, OPTS.epsilon)
      const ids = tf.tensor1d([...Array(VOCAB).keys(), 2, 5, 2].reverse(), 'int32')
      for (let s = 0; s < 4; s++) {
        const w = tf.tensor2d(random(20 + s, ids.size * DIM), [ids.size, DIM])
        // Loss sum(rows * w): through minimize (lookupGradients) for the sparse optimizer.
        const loss = opt.minimize([{ table: sparse, ids }], ([rows]) => tf.sum(tf.mul(rows!, w)))
        const denseLoss = denseOpt.minimize(() => tf.sum(tf.mul(embeddingLookup(tf, dense, ids), w)), true, [dense])!
        expectClose(loss.dataSync(), denseLoss.dataSync(), 1e-5)
        tf.dispose([w, loss, denseLoss])
      }
      expect(Array.from(sparse.dataSync())).not.toEqual(Array.from(initial))
      expectClose(sparse.dataSync(), dense.dataSync(), 1e-5)
      opt.dispose()
      denseOpt.dispose()
      tf.dispose([sparse, dense, ids])
    })

    it('rejects bad input before writing anything', () => {
      const initial = random(7, VOCAB * DIM)
      const table = tf.variable(tf.tensor2d(initial, [VOCAB, DIM]))
      const other = tf.variable(tf.tensor2d(random(8, VOCAB * DIM), [VOCAB, DIM]))
      const opt = make(kind, OPTS)
      const ids = tf.tensor1d([1, 2], 'int32')
      const g = tf.tensor2d(random(9, 2 * DIM), [2, DIM])
      opt.step(table, ids, g) // the slots exist: their rows must not change either
      const snapshot = (): number[][] => [table, other, ...opt.slots(table)].map((t) => Array.from(bits(t)))
      const before = snapshot()
      const plain = tf.tensor2d(initial, [VOCAB, DIM])
      const intTable = tf.variable(tf.zeros([VOCAB, DIM], 'int32'))
      const flat = tf.variable(tf.zeros([VOCAB * DIM]))
      const disposed = tf.variable(tf.zeros([VOCAB, DIM]))
      disposed.dispose()
      const cases: [() => void, ErrorConstructor, RegExp][] = [
        [() => opt.step(plain as unknown as tf.Variable, ids, g), TypeError, /table must be a tf\.Variable.*a tf\.Tensor of shape \[10,3\]/],
        [() => opt.step({} as tf.Variable, ids, g), TypeError, /table must be a tf\.Variable \(tf\.variable\(\.\.\.\)\), got Object/],
        [() => opt.step(intTable, ids, g), TypeError, /table must have dtype 'float32', got 'int32'/],
        [() => opt.step(flat, ids, g), RangeError, /table must have rank 2 \(\[vocab, dim\]\), got shape \[30\]/],
        [() => opt.step(disposed, ids, g), TypeError, /table has been disposed/],
        [() => opt.step(table, tf.tensor1d([1, 2]), g), TypeError, /ids must have dtype 'int32', got 'float32'/],
        [() => opt.step(table, [1, 2] as unknown as tf.Tensor, g), TypeError, /ids must be a tf\.Tensor, got Array\(2\)/],
        [() => opt.step(table, tf.tensor1d([1, 10], 'int32'), g), RangeError, /ids holds 10 at position 1, outside \[0, 10\)/],
        [() => opt.step(table, tf.tensor1d([-1, 3], 'int32'), g), RangeError, /ids holds -1 at position 0/],
        [() => opt.step(table, ids, tf.tensor2d(random(9, 3 * DIM), [3, DIM])), RangeError, /grads has shape \[3,3\], expected \[2,3\]/],
        [() => opt.step(table, ids, tf.tensor2d(random(9, 2 * 4), [2, 4])), RangeError, /grads has shape \[2,4\], expected \[2,3\]/],
        [() => opt.step(table, ids, tf.zeros([2, DIM], 'int32')), TypeError, /grads must have dtype 'float32', got 'int32'/],
        [() => opt.step(table, ids, null as unknown as tf.Tensor), TypeError, /grads must be a tf\.Tensor, got null/],
        // minimize: a bad second lookup, and a loss that throws, update no table.
        [
          () => opt.minimize([{ table: other, ids }, { table, ids: tf.tensor1d([0, 11], 'int32') }], ([a]) => tf.sum(a!)),
          RangeError,
          /lookups\[1\]\.ids holds 11 at position 1/,
        ],
        [
          () =>
            opt.minimize([{ table: other, ids }, { table, ids }], () => {
              throw new Error('loss failed')
            }),
          Error,
          /loss failed/,
        ],
      ]
      for (const [call, type, message] of cases) {
        expect(call).toThrow(type)
        expect(call).toThrow(message)
        expect(snapshot()).toEqual(before)
        expect(opt.iterations(table)).toBe(1)
        expect(opt.iterations(other)).toBe(0)
      }
      opt.dispose()
      expect(() => opt.step(table, ids, g)).toThrow(/has been disposed/)
      expect(snapshot().slice(0, 2)).toEqual(before.slice(0, 2))
      tf.dispose([table, other, ids, g, plain, intTable, flat])
    })
  })

  it('lazy Adam: a row absent from a batch keeps its value and moments bit for bit; its next update uses the global step count', () => {
    const initial = random(11, VOCAB * DIM)
    const table = tf.variable(tf.tensor2d(initial, [VOCAB, DIM]))
    const opt = sparseAdam(tf, { learningRate: OPTS.learningRate, beta1: OPTS.beta1, beta2: OPTS.beta2 })
    const ref = new Reference('adam', OPTS, initial, DIM)
    const batches = [[0, 1], [1], [1], [0, 1]] // row 0 absent from steps 2 and 3
    let afterFirst: number[][] = []
    batches.forEach((ids, s) => {
      const g = random(30 + s, ids.length * DIM)
      opt.step(table, tf.tensor1d(ids, 'int32'), tf.tensor2d(g, [ids.length, DIM]))
      ref.step(ids, g)
      const now = [table, ...opt.slots(table)].map((t) => rowBits(t, 0, DIM))
      if (s === 0) afterFirst = now
      if (s === 1 || s === 2) expect(now).toEqual(afterFirst)
    })
    // Step 4 updates row 0 with t = 4 (not its own count of 2): the reference does that.
    expectClose(table.dataSync(), ref.table)
    const own = new Reference('adam', OPTS, initial, DIM)
    own.step([0], random(30, DIM))
    own.t = 1 // as if row 0 kept a step count of its own
    own.step([0], random(33, DIM))
    expect(Math.abs(own.table[0]! - table.dataSync()[0]!)).toBeGreaterThan(1e-6)
    // A dense Adam moves row 0 at steps 2 and 3 (momentum, decayed moments): different result.
    const dense = tf.variable(tf.tensor2d(initial, [VOCAB, DIM]))
    const denseOpt = tf.train.adam(OPTS.learningRate, OPTS.beta1, OPTS.beta2)
    batches.forEach((ids, s) => {
      const w = tf.tensor2d(random(30 + s, ids.length * DIM), [ids.length, DIM])
      denseOpt.minimize(() => tf.sum(tf.mul(embeddingLookup(tf, dense, tf.tensor1d(ids, 'int32')), w)), false, [dense])
    })
    expect(Math.abs(dense.dataSync()[0]! - table.dataSync()[0]!)).toBeGreaterThan(1e-4)
    opt.dispose()
    denseOpt.dispose()
    tf.dispose([table, dense])
  })

  it('minimize steps a table looked up twice once, with both lookups\' gradients summed', () => {
    const users = tf.variable(tf.tensor2d(random(40, 4 * DIM), [4, DIM]))
    const items = tf.variable(tf.tensor2d(random(41, VOCAB * DIM), [VOCAB, DIM]))
    const u = tf.tensor1d([0, 1, 2, 1], 'int32')
    const pos = tf.tensor1d([3, 4, 5, 3], 'int32')
    const neg = tf.tensor1d([4, 9, 3, 0], 'int32')
    const bpr = ([ru, rp, rn]: tf.Tensor[]): tf.Scalar =>
      tf.mean(tf.softplus(tf.sub(tf.sum(tf.mul(ru!, rn!), 1), tf.sum(tf.mul(ru!, rp!), 1))))
    const lookups = [
      { table: users, ids: u },
      { table: items, ids: pos },
      { table: items, ids: neg },
    ]
    // The expected step: the per-lookup gradients, items' concatenated, through step().
    const { value, grads } = lookupGradients(tf, lookups, bpr)
    const ref = {
      users: new Reference('adam', OPTS, users.dataSync() as Float32Array, DIM),
      items: new Reference('adam', OPTS, items.dataSync() as Float32Array, DIM),
    }
    ref.users.step(u.dataSync(), grads[0]!.dataSync())
    ref.items.step([...pos.dataSync(), ...neg.dataSync()], [...grads[1]!.dataSync(), ...grads[2]!.dataSync()])
    const opt = sparseAdam(tf, OPTS)
    const tensorsBefore = tf.memory().numTensors
    const loss = opt.minimize(lookups, bpr)
    // Left behind: the loss and the slots (m, v) of the two tables.
    expect(tf.memory().numTensors - tensorsBefore).toBe(1 + 4)
    expectClose(loss.dataSync(), value.dataSync())
    expect(opt.iterations(items)).toBe(1)
    expect(opt.iterations(users)).toBe(1)
    expectClose(users.dataSync(), ref.users.table)
    expectClose(items.dataSync(), ref.items.table)
    opt.dispose()
    tf.dispose([users, items, u, pos, neg, value, loss, ...grads])
  })

  it('ids of any shape ([B, k] with grads [B, k, dim]) step as their flattening; an empty batch changes nothing but counts a step', () => {
    const initial = random(50, VOCAB * DIM)
    const a = tf.variable(tf.tensor2d(initial, [VOCAB, DIM]))
    const b = tf.variable(tf.tensor2d(initial, [VOCAB, DIM]))
    const optA = sparseAdam(tf, OPTS)
    const optB = sparseAdam(tf, OPTS)
    const ids = [3, 1, 3, 7, 0, 1]
    const g = random(51, ids.length * DIM)
    optA.step(a, tf.tensor2d(ids, [2, 3], 'int32'), tf.tensor3d(g, [2, 3, DIM]))
    optB.step(b, tf.tensor1d(ids, 'int32'), tf.tensor2d(g, [ids.length, DIM]))
    expect(Array.from(bits(a))).toEqual(Array.from(bits(b)))
    expect(() => optA.step(a, tf.tensor2d(ids, [2, 3], 'int32'), tf.tensor2d(g, [ids.length, DIM]))).toThrow(/grads has shape \[6,3\], expected \[2,3,3\]/)
    const before = bits(a)
    optA.step(a, tf.tensor1d([], 'int32'), tf.zeros([0, DIM]))
    expect(Array.from(bits(a))).toEqual(Array.from(before))
    expect(optA.iterations(a)).toBe(2)
    optA.dispose()
    optB.dispose()
    tf.dispose([a, b])
  })

  it('rejects bad options', () => {
    expect(() => sparseAdam(tf, { learningRate: -1 })).toThrow(/options\.learningRate must be in \[0, .*got -1/)
    expect(() => sparseAdam(tf, { beta1: 1 })).toThrow(RangeError)
    expect(() => sparseAdam(tf, { beta2: Number.NaN })).toThrow(/options\.beta2 must be in \[0, 1\), got NaN/)
    expect(() => sparseAdagrad(tf, { initialAccumulatorValue: -0.1 })).toThrow(RangeError)
    expect(() => sparseSgd(tf, { l2: '0.1' as unknown as number })).toThrow(/options\.l2 must be a number, got string "0.1"/)
    expect(() => sparseSgd({} as typeof tf)).toThrow(/tf must be the TensorFlow\.js namespace/)
  })
})
