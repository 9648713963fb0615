/**
 * The JavaScript boundary beyond wrong types and values (errors.spec.ts has
 * those): memory that is not a plain, attached, whole ArrayBuffer; huge k;
 * a Rust panic surfacing as a JavaScript Error; the addon in worker_threads,
 * several at once, and their teardown.
 *
 * Tables: `detachedCases`, `nativeDetachedCases`, `hugeKCases` and
 * `memoryKinds` (counted in RELIABILITY.md). Adding an exported function
 * means adding its row to each table.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import * as native from '../native/index.js'
import { native as run, nativeAsync } from '../src/errors'
import { Interactions, Sampler } from '../src/index'
import type { PairwiseBatch, PointwiseBatch } from '../src/index'

const any = (v: unknown) => v as never

// Users 0..3 over 8 items; user 2 is heavy (complement path under every proposal), user 3 empty.
const COO_USERS = Int32Array.of(0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2)
const COO_ITEMS = Int32Array.of(1, 3, 0, 6, 7, 0, 1, 2, 3, 4, 5)
const matrix = Interactions.fromCoo(COO_USERS, COO_ITEMS, { numUsers: 4, numItems: 8 })
const rows = Array.from({ length: matrix.numUsers }, (_, u) => new Set(matrix.row(u)))

function sampler(seed = 11): Sampler {
  return new Sampler(matrix, { proposal: 'popularity', seed })
}

/** An Int32Array whose buffer has been transferred away (so it reads as empty). */
function detachedInt32(values: number[] = [0, 1]): Int32Array {
  const a = Int32Array.from(values)
  structuredClone(a.buffer, { transfer: [a.buffer] })
  return a
}

function detachedFloat32(length = 2): Float32Array {
  const a = new Float32Array(length)
  structuredClone(a.buffer, { transfer: [a.buffer] })
  return a
}

function detachedFloat64(length = 2): Float64Array {
  const a = new Float64Array(length)
  structuredClone(a.buffer, { transfer: [a.buffer] })
  return a
}

function expectNoPositives(users: Int32Array, negatives: Int32Array, k: number): void {
  for (let j = 0; j < negatives.length; j++) {
    expect(rows[users[Math.floor(j / k)]!]!.has(negatives[j]!)).toBe(false)
  }
}

// ------------------------------------------------------------ detached buffers

describe('detached buffers', () => {
  it('the helper really detaches', () => {
    const a = detachedInt32([1, 2, 3])
    expect(a.length).toBe(0)
    expect(a.buffer.byteLength).toBe(0)
  })

  const users = Int32Array.of(0, 1)
  const items = Int32Array.of(1, 0)
  const s = sampler()
  const pairOut = (): PairwiseBatch => ({ users: new Int32Array(2), positives: new Int32Array(2), negatives: new Int32Array(2) })
  const pointOut = (): PointwiseBatch => ({ users: new Int32Array(4), items: new Int32Array(4), labels: new Float32Array(4) })

  /** [name, call, the argument the message must name]: every typed-array argument of every export, detached. */
  const detachedCases: [string, () => unknown, string][] = [
    ['fromCoo: users', () => Interactions.fromCoo(detachedInt32(), items), 'users'],
    ['fromCoo: items', () => Interactions.fromCoo(users, detachedInt32()), 'items'],
    ['fromCsr: indptr (Int32Array)', () => Interactions.fromCsr(detachedInt32([0, 2]), items), 'indptr'],
    ['fromCsr: indptr (Float64Array)', () => Interactions.fromCsr(detachedFloat64(), items), 'indptr'],
    ['fromCsr: indices', () => Interactions.fromCsr(Int32Array.of(0, 2), detachedInt32()), 'indices'],
    ['Sampler: weights (Float64Array)', () => new Sampler(matrix, { weights: detachedFloat64(8) }), 'options.weights'],
    ['Sampler: weights (Float32Array)', () => new Sampler(matrix, { weights: detachedFloat32(8) }), 'options.weights'],
    ['negatives: users', () => s.negatives(detachedInt32(), 1), 'users'],
    ['negativesInto: users', () => s.negativesInto(detachedInt32(), 1, new Int32Array(2)), 'users'],
    ['negativesInto: out', () => s.negativesInto(users, 1, detachedInt32()), 'out'],
    ['pairwise: users', () => s.pairwise(detachedInt32(), items, 1), 'users'],
    ['pairwise: items', () => s.pairwise(users, detachedInt32(), 1), 'items'],
    ['pairwiseInto: out.users', () => s.pairwiseInto(users, items, 1, { ...pairOut(), users: detachedInt32() }), 'out.users'],
    ['pairwiseInto: out.positives', () => s.pairwiseInto(users, items, 1, { ...pairOut(), positives: detachedInt32() }), 'out.positives'],
    ['pairwiseInto: out.negatives', () => s.pairwiseInto(users, items, 1, { ...pairOut(), negatives: detachedInt32() }), 'out.negatives'],
    ['pairwiseInto: out.negativeLogProbs', () => s.pairwiseInto(users, items, 1, { ...pairOut(), negativeLogProbs: detachedFloat32() }), 'out.negativeLogProbs'],
    ['pointwise: users', () => s.pointwise(detachedInt32(), items, 1), 'users'],
    ['pointwise: items', () => s.pointwise(users, detachedInt32(), 1), 'items'],
    ['pointwiseInto: out.users', () => s.pointwiseInto(users, items, 1, { ...pointOut(), users: detachedInt32() }), 'out.users'],
    ['pointwiseInto: out.items', () => s.pointwiseInto(users, items, 1, { ...pointOut(), items: detachedInt32() }), 'out.items'],
    ['pointwiseInto: out.labels', () => s.pointwiseInto(users, items, 1, { ...pointOut(), labels: detachedFloat32() }), 'out.labels'],
    ['pointwiseInto: out.logProbs', () => s.pointwiseInto(users, items, 1, { ...pointOut(), logProbs: detachedFloat32(4) }), 'out.logProbs'],
    ['logProbabilities: items', () => s.logProbabilities(detachedInt32()), 'items'],
    ['logProbabilitiesInto: items', () => s.logProbabilitiesInto(detachedInt32(), new Float32Array(2)), 'items'],
    ['logProbabilitiesInto: out', () => s.logProbabilitiesInto(items, detachedFloat32()), 'out'],
  ]

  it.each(detachedCases)('%s: a TypeError naming the argument, and no call number taken', (_, call, name) => {
    const calls = s.calls
    let thrown: unknown
    try {
      call()
    } catch (e) {
      thrown = e
    }
    expect((thrown as Error)?.constructor).toBe(TypeError)
    const escaped = name.replace(/\./g, '\\.')
    expect((thrown as Error).message).toMatch(new RegExp(`^${escaped} is a view of a detached ArrayBuffer`))
    expect(s.calls).toBe(calls)
  })

  const asyncDetached: [string, () => Promise<unknown>][] = [
    ['negativesAsync: users', () => s.negativesAsync(detachedInt32(), 1)],
    ['pairwiseAsync: users', () => s.pairwiseAsync(detachedInt32(), items, 1)],
    ['pairwiseAsync: items', () => s.pairwiseAsync(users, detachedInt32(), 1)],
    ['pointwiseAsync: users', () => s.pointwiseAsync(detachedInt32(), items, 1)],
    ['pointwiseAsync: items', () => s.pointwiseAsync(users, detachedInt32(), 1)],
  ]
  it.each(asyncDetached)('%s: the Promise rejects with a TypeError', async (_, call) => {
    await expect(call()).rejects.toThrow(TypeError)
    await expect(call()).rejects.toThrow(/detached ArrayBuffer/)
  })

  it('an async call copies its inputs: detaching them right after the call changes nothing', async () => {
    const a = sampler(5)
    const b = sampler(5)
    const u = Int32Array.of(0, 1, 3, 0)
    const i = Int32Array.of(1, 0, 2, 3)
    const reference = b.pairwise(u.slice(), i.slice(), 3)
    const promise = a.pairwiseAsync(u, i, 3)
    structuredClone(u.buffer, { transfer: [u.buffer] })
    structuredClone(i.buffer, { transfer: [i.buffer] })
    expect(u.length).toBe(0)
    expect(await promise).toEqual(reference)
  })

  it('a result array handed to structuredClone / postMessage with transfer: values arrive, native memory stays valid', () => {
    // Result arrays are backed by memory the addon allocated (external
    // ArrayBuffers). V8 may copy such a buffer instead of detaching it (Node
    // 20 does); either way the receiver must get the values and the original
    // must either be detached (empty) or still hold them.
    const a = sampler(6)
    const users = Int32Array.of(0, 1, 3)
    const out = a.negatives(users, 50)
    const copy = out.slice()
    const moved = structuredClone(out, { transfer: [out.buffer as ArrayBuffer] })
    expect(moved).toEqual(copy)
    expect(out.length === 0 || out.every((v, j) => v === copy[j])).toBe(true)
    const { port1, port2 } = new MessageChannel()
    const out2 = a.negatives(users, 50)
    port1.postMessage(out2, [out2.buffer as ArrayBuffer])
    port1.close()
    port2.close()
    globalThis.gc?.()
    // The sampler goes on working.
    expectNoPositives(users, a.negatives(users, 50), 50)
  })

  /**
   * The native layer called directly (bypassing the TypeScript checks) with
   * detached arrays: it must not crash. napi reports a detached array as
   * empty, so each call either works on empty input or throws a clear error.
   */
  const nativeDetachedCases: [string, () => unknown][] = [
    ['NativeInteractions.fromCoo', () => native.NativeInteractions.fromCoo(detachedInt32(), detachedInt32())],
    ['NativeInteractions.fromCsr: indptr', () => native.NativeInteractions.fromCsr(detachedFloat64(), new Int32Array(0))],
    ['NativeSampler: weights', () => new native.NativeSampler(native.NativeInteractions.fromCoo(COO_USERS, COO_ITEMS, 4, 8), 'weights', 0, detachedFloat64(8), 1n)],
    ['negatives: users', () => native.draw(new native.NativeSampler(native.NativeInteractions.fromCoo(COO_USERS, COO_ITEMS, 4, 8), 'uniform', 0, undefined, 1n), detachedInt32(), null, 3, 'negatives')],
    ['negativesInto: users and out', () => native.negativesInto(new native.NativeSampler(native.NativeInteractions.fromCoo(COO_USERS, COO_ITEMS, 4, 8), 'uniform', 0, undefined, 1n), detachedInt32(), 3, detachedInt32())],
    ['negativesInto: out only', () => native.negativesInto(new native.NativeSampler(native.NativeInteractions.fromCoo(COO_USERS, COO_ITEMS, 4, 8), 'uniform', 0, undefined, 1n), Int32Array.of(0), 2, detachedInt32())],
    ['pairwiseInto: every output', () => native.batchInto(new native.NativeSampler(native.NativeInteractions.fromCoo(COO_USERS, COO_ITEMS, 4, 8), 'uniform', 0, undefined, 1n), Int32Array.of(0), Int32Array.of(1), 1, detachedInt32(), detachedInt32(), detachedInt32())],
    ['pointwiseInto: labels', () => native.batchInto(new native.NativeSampler(native.NativeInteractions.fromCoo(COO_USERS, COO_ITEMS, 4, 8), 'uniform', 0, undefined, 1n), Int32Array.of(0), Int32Array.of(1), 1, new Int32Array(2), new Int32Array(2), detachedFloat32())],
    ['logProbabilitiesInto: both', () => new native.NativeSampler(native.NativeInteractions.fromCoo(COO_USERS, COO_ITEMS, 4, 8), 'uniform', 0, undefined, 1n).logProbabilitiesInto(detachedInt32(), detachedFloat32())],
  ]
  it.each(nativeDetachedCases)('native %s: no crash; empty result or a clear error', (_, call) => {
    try {
      const result = call()
      if (ArrayBuffer.isView(result)) expect(result.byteLength).toBe(0)
    } catch (e) {
      expect(e).toBeInstanceOf(Error)
      expect((e as Error).message).toMatch(/\S/)
      expect((e as Error & { code?: string }).code).toBe('InvalidArg')
    }
  })

  it('native drawAsync with a detached users array resolves to an empty result', async () => {
    const s2 = new native.NativeSampler(native.NativeInteractions.fromCoo(COO_USERS, COO_ITEMS, 4, 8), 'uniform', 0, undefined, 1n)
    expect(await native.drawAsync(s2, detachedInt32(), null, 3, 'negatives')).toEqual(new Int32Array(0))
  })
})

// ------------------------------------------------------- other kinds of memory

/** How an argument's memory is laid out; each must give the plain result. */
const memoryKinds: [string, (values: Int32Array) => Int32Array, (n: number) => Int32Array, (n: number) => Float32Array][] = [
  ['plain ArrayBuffer', (v) => v.slice(), (n) => new Int32Array(n), (n) => new Float32Array(n)],
  [
    'SharedArrayBuffer',
    (v) => {
      const a = new Int32Array(new SharedArrayBuffer(v.byteLength))
      a.set(v)
      return a
    },
    (n) => new Int32Array(new SharedArrayBuffer(4 * n)),
    (n) => new Float32Array(new SharedArrayBuffer(4 * n)),
  ],
  [
    'subarray at an offset of a larger buffer',
    (v) => {
      const big = new Int32Array(v.length + 7).fill(-99)
      big.set(v, 3)
      return big.subarray(3, 3 + v.length)
    },
    (n) => new Int32Array(n + 9).fill(-99).subarray(5, 5 + n),
    (n) => new Float32Array(n + 9).fill(-99).subarray(4, 4 + n),
  ],
  [
    'view at a byte offset of a SharedArrayBuffer',
    (v) => {
      const a = new Int32Array(new SharedArrayBuffer(4 * (v.length + 4)), 8, v.length)
      a.set(v)
      return a
    },
    (n) => new Int32Array(new SharedArrayBuffer(4 * (n + 6)), 12, n),
    (n) => new Float32Array(new SharedArrayBuffer(4 * (n + 6)), 16, n),
  ],
]

describe.each(memoryKinds)('arrays on %s', (_, input, outInt, outFloat) => {
  const users = Int32Array.of(0, 1, 3, 2, 0, 3)
  const items = Int32Array.of(1, 0, 2, 3, 3, 7)
  const k = 5

  it('fromCoo and fromCsr build the same matrix', () => {
    const m = Interactions.fromCoo(input(COO_USERS), input(COO_ITEMS), { numUsers: 4, numItems: 8 })
    expect(m.indices()).toEqual(matrix.indices())
    const m2 = Interactions.fromCsr(input(Int32Array.from(matrix.indptr())), input(matrix.indices()), { numItems: 8 })
    expect(m2.indptr()).toEqual(matrix.indptr())
    expect(m2.indices()).toEqual(matrix.indices())
  })

  it('every call form gives the plain result, and writes only inside the view', async () => {
    const [a, b] = [sampler(21), sampler(21)]
    expect(a.negatives(input(users), k)).toEqual(b.negatives(users, k))
    expect(await a.negativesAsync(input(users), k)).toEqual(b.negatives(users, k))

    const out = outInt(users.length * k)
    a.negativesInto(input(users), k, out)
    expect(out).toEqual(b.negatives(users, k))
    expectNoPositives(users, out, k)
    // Neighbours of a subarray are untouched.
    const whole = new Int32Array(out.buffer)
    const start = out.byteOffset / 4
    for (let j = 0; j < whole.length; j++) {
      if (j < start || j >= start + out.length) expect(whole[j] === 0 || whole[j] === -99).toBe(true)
    }

    const pair = { users: outInt(users.length * k), positives: outInt(users.length * k), negatives: outInt(users.length * k), negativeLogProbs: outFloat(users.length * k) }
    a.pairwiseInto(input(users), input(items), k, pair)
    const pairRef = b.pairwise(users, items, k, { logProbs: true })
    expect(pair.users).toEqual(pairRef.users)
    expect(pair.positives).toEqual(pairRef.positives)
    expect(pair.negatives).toEqual(pairRef.negatives)
    expect(pair.negativeLogProbs).toEqual(pairRef.negativeLogProbs)

    const point = { users: outInt(users.length * (k + 1)), items: outInt(users.length * (k + 1)), labels: outFloat(users.length * (k + 1)) }
    a.pointwiseInto(input(users), input(items), k, point)
    const pointRef = b.pointwise(users, items, k)
    expect(point.users).toEqual(pointRef.users)
    expect(point.items).toEqual(pointRef.items)
    expect(point.labels).toEqual(pointRef.labels)

    expect(await a.pointwiseAsync(input(users), input(items), k)).toEqual(b.pointwise(users, items, k))
    const lp = outFloat(items.length)
    a.logProbabilitiesInto(input(items), lp)
    expect(lp).toEqual(b.logProbabilities(items))
  })

  it('an output overlapping an input in the same buffer is refused', () => {
    const s = sampler(3)
    const u = input(Int32Array.of(0, 1, 0, 1))
    expect(() => s.negativesInto(u.subarray(0, 2), 1, u.subarray(1, 3))).toThrow(/^out must not share memory with users/)
  })
})

// ------------------------------------------------------------------- huge k

describe('huge k', () => {
  const s = sampler(8)
  /** [name, call, error class or null when it must succeed, message]. Nothing here may allocate more than a few bytes. */
  const hugeKCases: [string, () => unknown, typeof RangeError | null, RegExp][] = [
    ['negatives: k = 2**31 - 1 with two users', () => s.negatives(Int32Array.of(0, 1), 2 ** 31 - 1), RangeError, /^k must be at most 1073741823 for 2 users/],
    ['negatives: k = 2**31 - 1 with no users (an empty result)', () => s.negatives(new Int32Array(0), 2 ** 31 - 1), null, /.*/],
    ['negatives: k = 2**31', () => s.negatives(Int32Array.of(0), 2 ** 31), RangeError, /^k must be at most 2147483647 for 1 users .*got 2147483648$/],
    ['negatives: k = Number.MAX_SAFE_INTEGER', () => s.negatives(Int32Array.of(0), Number.MAX_SAFE_INTEGER), RangeError, /^k must be at most 2147483647 for 1 users .*got 9007199254740991$/],
    ['negatives: k = Number.MAX_VALUE', () => s.negatives(Int32Array.of(0), Number.MAX_VALUE), RangeError, /^k must be a non-negative safe integer, got 1\.7976931348623157e\+308$/],
    ['negatives: k = 2**53 + 2 (an integer double)', () => s.negatives(Int32Array.of(0), 2 ** 53 + 2), RangeError, /^k must be a non-negative safe integer, got 9007199254740994$/],
    ['negativesInto: k = 2**31 - 1 into a 4-element out', () => s.negativesInto(Int32Array.of(0), 2 ** 31 - 1, new Int32Array(4)), RangeError, /^out\.length is 4, expected 2147483647/],
    ['pairwise: k = 2**31 - 1 with one positive and a 1-element items', () => s.pairwise(Int32Array.of(0, 1), Int32Array.of(1), 2 ** 31 - 1), RangeError, /^k must be at most|^items\.length/],
    ['pointwise: k = 2**31 - 1 with one positive (1 + k rows overflow)', () => s.pointwise(Int32Array.of(0), Int32Array.of(1), 2 ** 31 - 1), RangeError, /^k must be at most 2147483646 for 1 users/],
    ['pointwiseInto: k = 2**31 - 2 into small outputs', () => s.pointwiseInto(Int32Array.of(0), Int32Array.of(1), 2 ** 31 - 2, { users: new Int32Array(2), items: new Int32Array(2), labels: new Float32Array(2) }), RangeError, /^out\.users\.length is 2, expected 2147483647/],
    ['epoch: negatives = 2**31 - 1 with batches of 2', () => [...sampler(9).epoch({ batchSize: 2, negatives: 2 ** 31 - 1 })], RangeError, /^options\.negatives must be at most 1073741823 for 2 users/],
  ]

  it.each(hugeKCases)('%s', (_, call, error, message) => {
    const calls = s.calls
    if (error === null) {
      const result = call() as Int32Array
      expect(result.length).toBe(0)
      return
    }
    let thrown: unknown
    try {
      call()
    } catch (e) {
      thrown = e
    }
    expect((thrown as Error)?.constructor).toBe(error)
    expect((thrown as Error).message).toMatch(message)
    expect(s.calls).toBe(calls)
  })

  it('negativesAsync: k = 2**31 - 1 with two users rejects without allocating', async () => {
    await expect(s.negativesAsync(Int32Array.of(0, 1), 2 ** 31 - 1)).rejects.toThrow(RangeError)
  })
})

// ------------------------------------------------------------------ panics

describe('a Rust panic becomes a JavaScript Error, never an abort', () => {
  const hooks = native as unknown as {
    __panicForTests(message: string): void
    __panicAsyncForTests(message: string): Promise<void>
    __panicBeforeJobForTests(message: string): Promise<void>
  }

  it('synchronous entry point: a plain Error carrying the panic message', () => {
    let thrown: unknown
    try {
      hooks.__panicForTests('boom: sync')
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(Error)
    expect((thrown as Error).constructor).toBe(Error)
    expect((thrown as Error).message).toMatch(/boom: sync/)
  })

  it('off-thread job: the Promise rejects with an Error naming the panic', async () => {
    await expect(hooks.__panicAsyncForTests('boom: async')).rejects.toThrow(/internal error \(a Rust panic\): boom: async/)
  })

  it('Promise-returning entry point, before its job exists: an Error thrown synchronously', async () => {
    expect(() => hooks.__panicBeforeJobForTests('boom: before the job')).toThrow(/boom: before the job/)
    await expect(hooks.__panicBeforeJobForTests('')).resolves.toBeUndefined()
  })

  it('many panics in a row, then the addon still samples correctly', async () => {
    for (let j = 0; j < 50; j++) expect(() => hooks.__panicForTests(`boom ${j}`)).toThrow(`boom ${j}`)
    const rejections = await Promise.allSettled(Array.from({ length: 20 }, (_, j) => hooks.__panicAsyncForTests(`async ${j}`)))
    expect(rejections.every((r) => r.status === 'rejected')).toBe(true)
    const s = sampler(4)
    const users = Int32Array.of(0, 1, 2, 3)
    expectNoPositives(users, s.negatives(users, 100), 100)
  })

  it('the TypeScript layer passes a panic on as an Error, not a RangeError', async () => {
    expect(() => run(() => hooks.__panicForTests('through ts'))).toThrow(Error)
    let thrown: unknown
    try {
      run(() => hooks.__panicForTests('through ts'))
    } catch (e) {
      thrown = e
    }
    expect(thrown).not.toBeInstanceOf(RangeError)
    await expect(nativeAsync(() => hooks.__panicAsyncForTests('through ts'))).rejects.not.toBeInstanceOf(RangeError)
  })
})

// ---------------------------------------------------------- worker_threads

const root = path.resolve(__dirname, '..')
const distEntry = path.join(root, 'dist/index.js')
const hasDist = existsSync(distEntry)

/**
 * The worker's program: builds the same matrix, samples sync and async with
 * the given seed, checks exclusion itself, and posts its outputs back.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { Interactions, Sampler } = require(workerData.entry)
const m = Interactions.fromCoo(Int32Array.from(workerData.users), Int32Array.from(workerData.items), { numUsers: 4, numItems: 8 })
const s = new Sampler(m, { proposal: 'popularity', seed: BigInt(workerData.seed) })
const users = Int32Array.of(0, 1, 2, 3, 0, 1, 2, 3)
;(async () => {
  const out = []
  for (let call = 0; call < workerData.calls; call++) {
    const negatives = call % 2 === 0 ? s.negatives(users, 16) : await s.negativesAsync(users, 16)
    for (let j = 0; j < negatives.length; j++) {
      if (m.row(users[Math.floor(j / 16)]).includes(negatives[j])) throw new Error('a positive was returned')
    }
    out.push(Array.from(negatives))
  }
  parentPort.postMessage({ seed: workerData.seed, out })
})()
`

describe.skipIf(!hasDist)('worker_threads', () => {
  it('several workers load the addon at once, sample (sync and async) and exit 0', async () => {
    const seeds = [1, 2, 3, 4, 5, 6]
    const calls = 20
    const runs = seeds.map(
      (seed) =>
        new Promise<{ seed: number; out: number[][]; code: number }>((resolve, reject) => {
          const w = new Worker(WORKER, {
            eval: true,
            workerData: { entry: distEntry, users: Array.from(COO_USERS), items: Array.from(COO_ITEMS), seed, calls },
          })
          let message: { seed: number; out: number[][] } | undefined
          w.on('message', (m) => (message = m))
          w.on('error', reject)
          w.on('exit', (code) => (message ? resolve({ ...message, code }) : reject(new Error(`worker exited ${code} without a result`))))
        }),
    )
    const results = await Promise.all(runs)
    const users = Int32Array.of(0, 1, 2, 3, 0, 1, 2, 3)
    for (const r of results) {
      expect(r.code).toBe(0)
      // The same seed on the main thread gives the same outputs, call for call.
      const s = sampler(r.seed)
      const reference = Array.from({ length: calls }, () => Array.from(s.negatives(users, 16)))
      expect(r.out).toEqual(reference)
    }
    // Different seeds, different outputs (independent workers).
    expect(results[0]!.out).not.toEqual(results[1]!.out)
  })

  it('a process whose workers are terminated mid-call, or exit while Promises are pending, exits 0', () => {
    const script = `
      const { Worker } = require('node:worker_threads')
      const program = ${JSON.stringify(`
        const { workerData } = require('node:worker_threads')
        const { Interactions, Sampler } = require(workerData.entry)
        const m = Interactions.fromCoo(Int32Array.of(0, 0, 1), Int32Array.of(1, 2, 0), { numItems: 5000 })
        const s = new Sampler(m, { seed: 1 })
        const users = new Int32Array(200).fill(0)
        // Keep 8 async jobs in flight, forever: the worker is ended from outside. (Bounded, so
        // that the jobs queued when it ends drain in well under a second.)
        let inFlight = 0
        const loop = () => {
          while (inFlight < 8) { inFlight++; s.negativesAsync(users, 500).then(() => { inFlight-- }) }
          setImmediate(loop)
        }
        if (workerData.exitSoon) setTimeout(() => process.exit(0), 50)
        loop()
      `)}
      const entry = ${JSON.stringify(distEntry)}
      const workers = []
      for (let j = 0; j < 6; j++) workers.push(new Worker(program, { eval: true, workerData: { entry, exitSoon: j % 2 === 1 } }))
      setTimeout(async () => {
        await Promise.all(workers.map((w) => w.terminate()))
        // The main thread still uses the addon after its workers are gone.
        const { Interactions, Sampler } = require(entry)
        const m = Interactions.fromCoo(Int32Array.of(0), Int32Array.of(1), { numItems: 3 })
        const out = new Sampler(m, { seed: 2 }).negatives(Int32Array.of(0), 100)
        if (out.some((i) => i === 1)) process.exit(3)
        console.log('ok')
      }, 300)
    `
    // A crash (abort, segfault) would show as a signal or a non-zero status here.
    const stdout = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 })
    expect(stdout.trim()).toBe('ok')
  })
})
