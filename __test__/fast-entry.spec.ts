/**
 * The addon's direct `negativesInto` entry (`fastEntry()`, crates/negsample-node/src/fast_call.rs),
 * which `Sampler.negativesInto` calls: it reads its arguments with plain Node-API calls instead of
 * napi-rs's per-call bookkeeping, so it must be exactly as strict and give exactly the same output
 * as the napi-rs method `NativeSampler.negativesInto`.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import * as native from '../native/index.js'
import { Interactions, Sampler } from '../src/index'
import { nativeSampler } from '../src/sampler'

const any = (v: unknown) => v as never

// Users 0..3 over 8 items; user 2 is heavy (complement path), user 3 has no positive.
const matrix = Interactions.fromCoo(
  Int32Array.of(0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2),
  Int32Array.of(1, 3, 0, 6, 7, 0, 1, 2, 3, 4, 5),
  { numUsers: 4, numItems: 8 },
)
const entry = native.fastEntry()

function pair(seed: bigint) {
  const sampler = new Sampler(matrix, { proposal: 'popularity', seed, threads: 1 })
  const handle = nativeSampler(sampler)!
  return { sampler, handle, fast: handle.fastHandle() }
}

describe('fastEntry', () => {
  it('gives the output of the native negativesInto, call for call', () => {
    const a = pair(5n)
    const b = pair(5n)
    const users = Int32Array.of(0, 1, 2, 3, 3, 2, 1, 0)
    for (const k of [1, 3, 700]) {
      const viaEntry = new Int32Array(users.length * k)
      const viaMethod = new Int32Array(users.length * k)
      entry(a.fast, users, k, viaEntry)
      native.negativesInto(b.handle, users, k, viaMethod)
      expect(viaEntry).toEqual(viaMethod)
      for (let j = 0; j < viaEntry.length; j++) {
        expect(matrix.row(users[Math.floor(j / k)]!)).not.toContain(viaEntry[j])
      }
    }
  })

  it('writes through a subarray view and nowhere else', () => {
    const { fast } = pair(6n)
    const backing = new Int32Array(10).fill(-7)
    entry(fast, Int32Array.of(0, 1), 2, backing.subarray(3, 7))
    expect(Array.from(backing.subarray(0, 3))).toEqual([-7, -7, -7])
    expect(Array.from(backing.subarray(7))).toEqual([-7, -7, -7])
    expect(Array.from(backing.subarray(3, 7)).every((i) => i >= 0 && i < 8)).toBe(true)
  })

  const notHandles: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['a number', 3],
    ['a plain object', {}],
    ['an Int32Array', new Int32Array(4)],
    ['the NativeSampler itself', nativeSampler(new Sampler(matrix, { seed: 1n }))],
    ['a function', () => 0],
  ]
  it.each(notHandles)('rejects %s as the handle, naming it', (_, handle) => {
    expect(() => entry(any(handle), Int32Array.of(0), 1, new Int32Array(1))).toThrow(
      /handle must come from NativeSampler.fastHandle\(\)/,
    )
  })

  const notArrays: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['a number', 1],
    ['a plain Array', [0]],
    ['a Float64Array', new Float64Array(1)],
    ['a Uint32Array', new Uint32Array(1)],
    ['a DataView', new DataView(new ArrayBuffer(4))],
  ]
  it.each(notArrays)('rejects %s as users or out, naming the argument', (_, value) => {
    const { fast } = pair(7n)
    expect(() => entry(fast, any(value), 1, new Int32Array(1))).toThrow(/users must be an Int32Array/)
    expect(() => entry(fast, Int32Array.of(0), 1, any(value))).toThrow(/out must be an Int32Array/)
  })

  it('rejects missing arguments, a bad k, bad ids, a short out and shared memory, taking no call number', () => {
    const a = pair(8n)
    const b = pair(8n)
    const out = new Int32Array(4)
    expect(() => (entry as (...args: unknown[]) => void)(a.fast, Int32Array.of(0), 1)).toThrow(/takes 4 arguments, got 3/)
    expect(() => entry(a.fast, Int32Array.of(0), any('2'), out)).toThrow(/k must be a number/)
    expect(() => entry(a.fast, Int32Array.of(0), 0, out)).toThrow(/k must be an integer >= 1, got 0/)
    expect(() => entry(a.fast, Int32Array.of(0), 1.5, out)).toThrow(/k must be a non-negative safe integer, got 1\.5/)
    expect(() => entry(a.fast, Int32Array.of(4), 1, out)).toThrow(/users\[0\] = 4/)
    expect(() => entry(a.fast, Int32Array.of(-1), 1, out)).toThrow(/users\[0\] = -1/)
    expect(() => entry(a.fast, Int32Array.of(0, 1), 3, out)).toThrow(/out/)
    const shared = new Int32Array(4)
    expect(() => entry(a.fast, shared.subarray(0, 2), 1, shared.subarray(1, 3))).toThrow(
      /out must not share memory with users/,
    )
    // None of the failed calls took a call number: the next output is a fresh sampler's.
    const after = new Int32Array(8)
    const fresh = new Int32Array(8)
    entry(a.fast, Int32Array.of(0, 1), 4, after)
    entry(b.fast, Int32Array.of(0, 1), 4, fresh)
    expect(after).toEqual(fresh)
  })

  it('treats a detached array as empty (an error for a non-empty request, never a read)', () => {
    const { fast } = pair(11n)
    const detached = () => {
      const a = Int32Array.of(0, 1)
      structuredClone(a.buffer, { transfer: [a.buffer] })
      return a
    }
    expect(() => entry(fast, detached(), 1, new Int32Array(2))).toThrow(/out/)
    expect(() => entry(fast, Int32Array.of(0, 1), 1, detached())).toThrow(/out/)
    expect(() => entry(fast, detached(), 1, detached())).not.toThrow()
  })

  it('errors carry the code that Sampler turns into a RangeError', () => {
    const { sampler, fast } = pair(9n)
    let caught: unknown
    try {
      entry(fast, Int32Array.of(9), 1, new Int32Array(1))
    } catch (error) {
      caught = error
    }
    expect((caught as { code?: string }).code).toBe('InvalidArg')
    expect(() => sampler.negativesInto(Int32Array.of(9), 1, new Int32Array(1))).toThrow(RangeError)
  })

  it('a handle keeps its sampler alive after the Sampler is gone', () => {
    let fast: ReturnType<native.NativeSampler['fastHandle']> | undefined
    {
      const sampler = new Sampler(matrix, { seed: 10n })
      fast = nativeSampler(sampler)!.fastHandle()
    }
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    gc()
    gc()
    const out = new Int32Array(64)
    entry(fast, new Int32Array(64).fill(1), 1, out)
    expect(Array.from(out).every((i) => ![0, 6, 7].includes(i) && i >= 0 && i < 8)).toBe(true)
  })
})
