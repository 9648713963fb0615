/**
 * The JavaScript boundary of `negsample/tfjs` (src/tfjs.ts): every exported function called
 * with wrong types and shapes (undefined, null, numbers, a wrong or partial tf namespace,
 * plain arrays, tensors of the wrong dtype, rank or shape, disposed tensors) must throw a
 * TypeError (wrong kind of value) or a RangeError (wrong value: rank, shape, option), whose
 * message names the argument. Table-driven: `cases` (counted in RELIABILITY.md); adding an
 * export means adding its rows.
 */
import * as tf from '@tensorflow/tfjs'
import * as tfc from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { Interactions, Sampler } from '../src/index'
import {
  bceWithLogitsLoss,
  bprLoss,
  embeddingLayer,
  embeddingLookup,
  pairwiseTensors,
  pointwiseTensors,
  sampledSoftmaxLoss,
  samplerDataset,
} from '../src/tfjs'

const any = (v: unknown) => v as never

const matrix = Interactions.fromCoo(Int32Array.of(0, 0, 1, 2), Int32Array.of(1, 3, 0, 2), { numUsers: 3, numItems: 6 })
const sampler = new Sampler(matrix, { seed: 3 })
const pairBatch = () => ({ users: Int32Array.of(0, 1), positives: Int32Array.of(1, 0), negatives: Int32Array.of(2, 4) })
const pointBatch = () => ({ users: Int32Array.of(0, 0), items: Int32Array.of(1, 2), labels: Float32Array.of(1, 0) })

/** Tensors made per case (inside the case's thunk, so each case owns its inputs). */
const f32 = (shape: number[]) => tf.zeros(shape, 'float32')
const i32 = (shape: number[]) => tf.zeros(shape, 'int32')
const disposed = (t: tfc.Tensor) => {
  t.dispose()
  return t
}

/** Non-namespace values for `tf`. */
const notTf: [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 1],
  ['a string', 'tf'],
  ['an empty object', {}],
  ['an array', []],
]

/** Non-tensor values for a tensor argument. */
const notTensors: [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 3],
  ['a plain array', [1, 2]],
  ['a Float32Array', new Float32Array(2)],
  ['an object', { shape: [2], dtype: 'float32' }],
]

type Case = [label: string, call: () => unknown, error: typeof TypeError | typeof RangeError, names: RegExp]

function cases(): Case[] {
  const out: Case[] = []
  const fns: [string, (t: unknown) => unknown][] = [
    ['pairwiseTensors', (t) => pairwiseTensors(any(t), pairBatch())],
    ['pointwiseTensors', (t) => pointwiseTensors(any(t), pointBatch())],
    ['samplerDataset', (t) => samplerDataset(any(t), sampler, { batchSize: 2 })],
    ['embeddingLookup', (t) => embeddingLookup(any(t), f32([4, 2]), i32([3]))],
    ['embeddingLayer', (t) => embeddingLayer(any(t), { inputDim: 4, outputDim: 2 })],
    ['bprLoss', (t) => bprLoss(any(t), f32([2]), f32([2]))],
    ['bceWithLogitsLoss', (t) => bceWithLogitsLoss(any(t), f32([2]), f32([2]))],
    ['sampledSoftmaxLoss', (t) => sampledSoftmaxLoss(any(t), f32([2, 3]))],
  ]
  // Every export: tf that is not a TensorFlow.js namespace.
  for (const [fn, call] of fns) {
    for (const [what, value] of notTf) out.push([`${fn}: tf is ${what}`, () => call(value), TypeError, /\btf\b/])
  }
  // The core namespace where the full one is needed.
  out.push(['samplerDataset: tf is tfjs-core (no tf.data)', () => samplerDataset(any(tfc), sampler, { batchSize: 2 }), TypeError, /tf\.data/])
  out.push(['embeddingLayer: tf is tfjs-core (no tf.layers)', () => embeddingLayer(any(tfc), { inputDim: 4, outputDim: 2 }), TypeError, /tf\.layers/])

  // Tensor arguments: not tensors, wrong dtype, disposed.
  const tensorArgs: [string, string, (v: unknown) => unknown, string][] = [
    ['embeddingLookup', 'table', (v) => embeddingLookup(tf, any(v), i32([3])), 'float32'],
    ['embeddingLookup', 'ids', (v) => embeddingLookup(tf, f32([4, 2]), any(v)), 'int32'],
    ['bprLoss', 'positiveScores', (v) => bprLoss(tf, any(v), f32([2])), 'float32'],
    ['bprLoss', 'negativeScores', (v) => bprLoss(tf, f32([2]), any(v)), 'float32'],
    ['bprLoss', 'options.weights', (v) => bprLoss(tf, f32([2]), f32([2]), { weights: any(v) }), 'float32'],
    ['bceWithLogitsLoss', 'logits', (v) => bceWithLogitsLoss(tf, any(v), f32([2])), 'float32'],
    ['bceWithLogitsLoss', 'labels', (v) => bceWithLogitsLoss(tf, f32([2]), any(v)), 'float32'],
    ['bceWithLogitsLoss', 'options.weights', (v) => bceWithLogitsLoss(tf, f32([2]), f32([2]), { weights: any(v) }), 'float32'],
    ['sampledSoftmaxLoss', 'logits', (v) => sampledSoftmaxLoss(tf, any(v)), 'float32'],
    ['sampledSoftmaxLoss', 'options.logQ', (v) => sampledSoftmaxLoss(tf, f32([2, 3]), { logQ: any(v) }), 'float32'],
    ['sampledSoftmaxLoss', 'options.weights', (v) => sampledSoftmaxLoss(tf, f32([2, 3]), { weights: any(v) }), 'float32'],
  ]
  for (const [fn, name, call, dtype] of tensorArgs) {
    const named = new RegExp(name.replace('.', '\\.'))
    for (const [what, value] of notTensors) {
      // `undefined` is "not given" for options.
      if (name.startsWith('options.') && value === undefined) continue
      out.push([`${fn}: ${name} is ${what}`, () => call(value), TypeError, named])
    }
    const wrong = dtype === 'float32' ? () => i32([2]) : () => f32([3])
    out.push([`${fn}: ${name} has the wrong dtype`, () => call(wrong()), TypeError, named])
    out.push([`${fn}: ${name} is a bool tensor`, () => call(tf.zeros([2], 'bool')), TypeError, named])
    const good = name === 'table' ? () => f32([4, 2]) : name === 'logits' && fn === 'sampledSoftmaxLoss' ? () => f32([2, 3]) : dtype === 'int32' ? () => i32([3]) : () => f32([2])
    out.push([`${fn}: ${name} is disposed`, () => call(disposed(good())), TypeError, named])
  }
  out.push(['sampledSoftmaxLoss: options.mask is a number', () => sampledSoftmaxLoss(tf, f32([2, 3]), { mask: any(1) }), TypeError, /options\.mask/])
  out.push(['sampledSoftmaxLoss: options.mask is disposed', () => sampledSoftmaxLoss(tf, f32([2, 3]), { mask: disposed(tf.zeros([2, 3], 'bool')) }), TypeError, /options\.mask/])

  // Ranks and shapes.
  out.push(['embeddingLookup: table of rank 1', () => embeddingLookup(tf, f32([4]), i32([3])), RangeError, /table/])
  out.push(['embeddingLookup: table of rank 3', () => embeddingLookup(tf, f32([4, 2, 1]), i32([3])), RangeError, /table/])
  out.push(['sampledSoftmaxLoss: logits of rank 1', () => sampledSoftmaxLoss(tf, f32([3])), RangeError, /logits/])
  out.push(['sampledSoftmaxLoss: logits of rank 3', () => sampledSoftmaxLoss(tf, f32([2, 3, 1])), RangeError, /logits/])
  out.push(['sampledSoftmaxLoss: diagonal with non-square logits', () => sampledSoftmaxLoss(tf, f32([2, 3]), { positive: 'diagonal' }), RangeError, /logits/])
  out.push(['sampledSoftmaxLoss: logQ of another shape', () => sampledSoftmaxLoss(tf, f32([2, 3]), { logQ: f32([2, 4]) }), RangeError, /options\.logQ/])
  out.push(['sampledSoftmaxLoss: mask of another shape', () => sampledSoftmaxLoss(tf, f32([2, 3]), { mask: tf.zeros([3, 3], 'bool') }), RangeError, /options\.mask/])
  out.push(['sampledSoftmaxLoss: weights of another shape', () => sampledSoftmaxLoss(tf, f32([2, 3]), { weights: f32([3]) }), RangeError, /options\.weights/])
  out.push(['bprLoss: scores of incompatible shapes', () => bprLoss(tf, f32([3]), f32([2, 2])), RangeError, /negativeScores/])
  out.push(['bprLoss: weights of another shape', () => bprLoss(tf, f32([2]), f32([2]), { weights: f32([3]) }), RangeError, /options\.weights/])
  out.push(['bceWithLogitsLoss: labels of another shape', () => bceWithLogitsLoss(tf, f32([2, 2]), f32([3])), RangeError, /labels/])
  out.push(['bceWithLogitsLoss: weights of another shape', () => bceWithLogitsLoss(tf, f32([2]), f32([2]), { weights: f32([2, 3]) }), RangeError, /options\.weights/])

  // Options of the loss functions and layers.
  for (const [fn, call] of [
    ['bprLoss', (o: unknown) => bprLoss(tf, f32([2]), f32([2]), any(o))],
    ['bceWithLogitsLoss', (o: unknown) => bceWithLogitsLoss(tf, f32([2]), f32([2]), any(o))],
    ['sampledSoftmaxLoss', (o: unknown) => sampledSoftmaxLoss(tf, f32([2, 3]), any(o))],
  ] as const) {
    out.push([`${fn}: options is null`, () => call(null), TypeError, /options/])
    out.push([`${fn}: options is a number`, () => call(5), TypeError, /options/])
    out.push([`${fn}: reduction is unknown`, () => call({ reduction: 'max' }), RangeError, /options\.reduction/])
  }
  out.push(['sampledSoftmaxLoss: positive is unknown', () => sampledSoftmaxLoss(tf, f32([2, 3]), { positive: any('last') }), RangeError, /options\.positive/])
  for (const [what, value, error] of [
    ['undefined', undefined, TypeError],
    ['null', null, TypeError],
    ['a number', 4, TypeError],
  ] as const) {
    out.push([`embeddingLayer: options is ${what}`, () => embeddingLayer(tf, any(value)), error, /options/])
  }
  for (const [field, value, error] of [
    ['inputDim', undefined, TypeError],
    ['inputDim', 0, RangeError],
    ['inputDim', 1.5, RangeError],
    ['outputDim', '2', TypeError],
    ['outputDim', -1, RangeError],
  ] as const) {
    out.push([`embeddingLayer: ${field} = ${String(value)}`, () => embeddingLayer(tf, any({ inputDim: 4, outputDim: 2, [field]: value })), error, new RegExp(`options\\.${field}`)])
  }

  // Batches.
  for (const [fn, call, make, arrays] of [
    ['pairwiseTensors', (b: unknown, o?: unknown) => pairwiseTensors(tf, any(b), any(o)), pairBatch, ['users', 'positives', 'negatives']],
    ['pointwiseTensors', (b: unknown, o?: unknown) => pointwiseTensors(tf, any(b), any(o)), pointBatch, ['users', 'items', 'labels']],
  ] as const) {
    out.push([`${fn}: batch is undefined`, () => call(undefined), TypeError, /batch/])
    out.push([`${fn}: batch is null`, () => call(null), TypeError, /batch/])
    out.push([`${fn}: batch is a number`, () => call(7), TypeError, /batch/])
    for (const name of arrays) {
      const floatField = name === 'labels'
      out.push([`${fn}: batch.${name} missing`, () => call({ ...make(), [name]: undefined }), TypeError, new RegExp(`batch\\.${name}`)])
      out.push([`${fn}: batch.${name} is a plain array`, () => call({ ...make(), [name]: [1, 2] }), TypeError, new RegExp(`batch\\.${name}`)])
      out.push([
        `${fn}: batch.${name} has the wrong element type`,
        () => call({ ...make(), [name]: floatField ? new Int32Array(2) : new Float64Array(2) }),
        TypeError,
        new RegExp(`batch\\.${name}`),
      ])
      if (name !== 'users') {
        out.push([`${fn}: batch.${name} has another length`, () => call({ ...make(), [name]: floatField ? new Float32Array(3) : new Int32Array(3) }), RangeError, new RegExp(`batch\\.${name}`)])
      }
    }
    out.push([`${fn}: layout is unknown`, () => call(make(), { layout: 'square' }), RangeError, /options\.layout/])
    out.push([`${fn}: grouped without negatives`, () => call(make(), { layout: 'grouped' }), RangeError, /options\.negatives/])
    out.push([`${fn}: grouped, negatives not dividing the rows`, () => call(make(), { layout: 'grouped', negatives: 3 }), RangeError, /options\.negatives/])
    out.push([`${fn}: options is a number`, () => call(make(), 3), TypeError, /options/])
  }

  // samplerDataset.
  out.push(['samplerDataset: sampler is null', () => samplerDataset(tf, any(null), { batchSize: 2 }), TypeError, /sampler/])
  out.push(['samplerDataset: sampler is a number', () => samplerDataset(tf, any(3), { batchSize: 2 }), TypeError, /sampler/])
  out.push(['samplerDataset: options is undefined', () => samplerDataset(tf, sampler, any(undefined)), TypeError, /options/])
  out.push(['samplerDataset: batchSize missing', () => samplerDataset(tf, sampler, any({})), TypeError, /options\.batchSize/])
  out.push(['samplerDataset: batchSize 0', () => samplerDataset(tf, sampler, { batchSize: 0 }), RangeError, /options\.batchSize/])
  out.push(['samplerDataset: negatives 2^31', () => samplerDataset(tf, sampler, { batchSize: 2, negatives: 2 ** 31 }), RangeError, /options\.negatives/])
  out.push(['samplerDataset: prefetch 17', () => samplerDataset(tf, sampler, { batchSize: 2, prefetch: 17 }), RangeError, /options\.prefetch/])
  out.push(['samplerDataset: shape unknown', () => samplerDataset(tf, sampler, { batchSize: 2, shape: any('listwise') }), RangeError, /options\.shape/])
  out.push(['samplerDataset: map not a function', () => samplerDataset(tf, sampler, { batchSize: 2, map: any(1) }), TypeError, /options\.map/])
  out.push(['samplerDataset: source not a function', () => samplerDataset(tf, sampler, { batchSize: 2, source: any({}) }), TypeError, /options\.source/])
  out.push(['samplerDataset: layout unknown', () => samplerDataset(tf, sampler, { batchSize: 2, layout: any('x') }), RangeError, /options\.layout/])
  return out
}

describe('negsample/tfjs: wrong types and shapes', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
    await tf.ready()
  })

  it('the table is not empty and every row has a distinct label', () => {
    const labels = cases().map((c) => c[0])
    expect(labels.length).toBeGreaterThan(150)
    expect(new Set(labels).size).toBe(labels.length)
  })

  it.each(cases().map((c) => [c[0], c] as const))('%s', (_label, [, call, error, names]) => {
    const before = tf.memory().numTensors
    let thrown: unknown
    try {
      call()
    } catch (e) {
      thrown = e
    }
    expect(thrown, 'it must throw').toBeInstanceOf(error)
    expect(String((thrown as Error).message)).toMatch(names)
    // A rejected call leaks no tensor of its own (inputs made by the case may remain).
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(3)
  })
})
