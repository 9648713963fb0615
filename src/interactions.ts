import { NativeInteractions } from '../native/index.js'
import { describe, expectInt32Array, expectNumber, expectOptions, isDetached, native, optionalNumber } from './errors'

/** Options of {@link Interactions.fromCoo}. */
export interface CooOptions {
  /** Number of users; every id in `users` must be below it. Default: the largest user id + 1 (it must be given when that is above max(2^24, 64 x pairs)). */
  numUsers?: number
  /** Number of items; every id in `items` must be below it. Default: the largest item id + 1 (it must be given when that is above max(2^24, 64 x pairs)). */
  numItems?: number
}

/** Options of {@link Interactions.fromCsr}. */
export interface CsrOptions {
  /** Number of items; every id in `indices` must be below it. Default: the largest id + 1 (it must be given when that is above max(2^24, 64 x indices.length)). */
  numItems?: number
}

const handles = new WeakMap<Interactions, NativeInteractions>()

/** The native matrix behind an {@link Interactions} (for the sampler's constructor). */
export function nativeInteractions(interactions: Interactions): NativeInteractions | undefined {
  return handles.get(interactions)
}

/**
 * The positives (user, item) of a training set, as a CSR matrix held in native
 * memory: each user's items sorted ascending, repeats dropped, item popularity
 * available.
 *
 * Memory: 8 bytes per user and 4 bytes per interaction. Build it once and share
 * it between samplers.
 *
 * @example
 * ```ts
 * const train = Interactions.fromCoo(Int32Array.of(0, 0, 1), Int32Array.of(3, 1, 2))
 * train.numUsers // 2
 * train.row(0)   // Int32Array [1, 3]
 * ```
 */
export class Interactions {
  private constructor(handle: NativeInteractions) {
    handles.set(this, handle)
  }

  private get handle(): NativeInteractions {
    return handles.get(this)!
  }

  /**
   * Builds the matrix from coordinate pairs: `users[j]` interacted with `items[j]`.
   *
   * @throws TypeError if `users` or `items` is not an `Int32Array`, or `options` not an object.
   * @throws RangeError if the lengths differ, an id is negative or not below its count
   *   (the message names the array, the position and the value), or a count is not an integer
   *   in [0, 2^31 - 1].
   */
  static fromCoo(users: Int32Array, items: Int32Array, options: CooOptions = {}): Interactions {
    expectInt32Array('users', users)
    expectInt32Array('items', items)
    expectOptions('options', options)
    const numUsers = optionalNumber('numUsers', options.numUsers)
    const numItems = optionalNumber('numItems', options.numItems)
    return new Interactions(native(() => NativeInteractions.fromCoo(users, items, numUsers, numItems)))
  }

  /**
   * Builds the matrix from CSR arrays: user `u`'s items are
   * `indices[indptr[u] .. indptr[u + 1]]` (in any order; repeats are dropped).
   * `indptr` may be an `Int32Array`, or a `Float64Array` / `BigInt64Array` for
   * more than 2^31 interactions.
   *
   * @throws TypeError on wrong array types.
   * @throws RangeError if `indptr` does not start at 0, decreases, or does not end at
   *   `indices.length`, or an item id is out of range.
   */
  static fromCsr(
    indptr: Int32Array | Float64Array | BigInt64Array,
    indices: Int32Array,
    options: CsrOptions = {},
  ): Interactions {
    const tag = ArrayBuffer.isView(indptr) ? Object.prototype.toString.call(indptr).slice(8, -1) : ''
    if (tag !== 'Int32Array' && tag !== 'Float64Array' && tag !== 'BigInt64Array') {
      throw new TypeError(`indptr must be an Int32Array, Float64Array or BigInt64Array, got ${describe(indptr)}`)
    }
    if (isDetached(indptr)) {
      throw new TypeError(`indptr is a view of a detached ArrayBuffer (it was transferred), got ${describe(indptr)}`)
    }
    expectInt32Array('indices', indices)
    expectOptions('options', options)
    const numItems = optionalNumber('numItems', options.numItems)
    const offsets =
      tag === 'Float64Array'
        ? (indptr as Float64Array)
        : Float64Array.from(indptr as ArrayLike<number | bigint>, (v) => Number(v))
    return new Interactions(native(() => NativeInteractions.fromCsr(offsets, indices, numItems)))
  }

  /** Number of users (rows). */
  get numUsers(): number {
    return this.handle.numUsers
  }

  /** Number of items (columns). */
  get numItems(): number {
    return this.handle.numItems
  }

  /** Number of distinct (user, item) positives. */
  get nnz(): number {
    return this.handle.nnz
  }

  /**
   * The positives of `user`, sorted ascending (a fresh copy).
   * @throws TypeError unless `user` is a number.
   * @throws RangeError unless `user` is an integer in `[0, numUsers)`.
   */
  row(user: number): Int32Array {
    expectNumber('user', user)
    return native(() => this.handle.row(user))
  }

  /** How many users interacted with each item (`numItems` counts). */
  popularity(): Int32Array {
    return native(() => this.handle.popularity())
  }

  /** Row offsets: `numUsers + 1` values, as float64 (exact up to 2^53). */
  indptr(): Float64Array {
    return native(() => this.handle.indptr())
  }

  /** Every user's items, concatenated in user order. */
  indices(): Int32Array {
    return native(() => this.handle.indices())
  }
}
