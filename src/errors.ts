/**
 * Argument checks for the JavaScript side of the API, and the one place where
 * errors from the native engine become `RangeError`s.
 *
 * The engine validates every value (ranges, lengths, ids) and reports errors
 * with `code: "InvalidArg"`; this module checks JavaScript *types* before a
 * call crosses into Rust (so that a wrong type is a `TypeError` naming the
 * argument) and rethrows engine errors as `RangeError` with the same message.
 */

/** A short description of a value for error messages: its type, and for an array its length. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (ArrayBuffer.isView(value)) {
    const name = Object.prototype.toString.call(value).slice(8, -1)
    return `${name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`
  }
  if (Array.isArray(value)) return `Array(${value.length})`
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`
  }
  if (typeof value === 'function') return 'function'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value
}

function tagOf(value: unknown): string {
  // Typed arrays answer with their class name from the `Symbol.toStringTag` getter of
  // %TypedArray%.prototype (the same name `Object.prototype.toString` reports, also across
  // realms), without allocating a string: this runs on every call of a hot loop.
  if (ArrayBuffer.isView(value)) {
    const tag = (value as unknown as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag]
    if (typeof tag === 'string') return tag
  }
  return Object.prototype.toString.call(value).slice(8, -1)
}

/**
 * Whether a typed array's buffer has been detached (transferred with `structuredClone`,
 * `postMessage` or `ArrayBuffer.prototype.transfer`). A detached array reads as empty, which
 * would silently turn a call into an empty one. Only zero-length views can be detached, so
 * ordinary arrays pay one comparison; the probe (constructing a view, which throws on a
 * detached buffer) runs for empty ones only.
 */
export function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0) return false
  try {
    new Uint8Array(view.buffer, 0, 0)
    return false
  } catch {
    return true
  }
}

/** Throws a `TypeError` if `value`'s buffer has been detached. */
function expectAttached(name: string, value: ArrayBufferView): void {
  if (isDetached(value)) {
    throw new TypeError(`${name} is a view of a detached ArrayBuffer (it was transferred), got ${describe(value)}`)
  }
}

/** Throws a `TypeError` unless `value` is an `Int32Array`. */
export function expectInt32Array(name: string, value: unknown): asserts value is Int32Array {
  if (!ArrayBuffer.isView(value) || tagOf(value) !== 'Int32Array') {
    throw new TypeError(`${name} must be an Int32Array, got ${describe(value)}`)
  }
  expectAttached(name, value)
}

/** Throws a `TypeError` unless `value` is a `Float32Array`. */
export function expectFloat32Array(name: string, value: unknown): asserts value is Float32Array {
  if (!ArrayBuffer.isView(value) || tagOf(value) !== 'Float32Array') {
    throw new TypeError(`${name} must be a Float32Array, got ${describe(value)}`)
  }
  expectAttached(name, value)
}

/** Throws a `TypeError` unless `value` is a `Float32Array` or `Float64Array`. */
export function expectFloatArray(name: string, value: unknown): asserts value is Float32Array | Float64Array {
  const tag = tagOf(value)
  if (!ArrayBuffer.isView(value) || (tag !== 'Float32Array' && tag !== 'Float64Array')) {
    throw new TypeError(`${name} must be a Float32Array or Float64Array, got ${describe(value)}`)
  }
  expectAttached(name, value)
}

/**
 * Throws a `TypeError` unless `value` is a number, and a `RangeError` unless it
 * is an integer in `[min, max]`.
 */
export function expectInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${describe(value)}`)
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`
    throw new RangeError(`${name} must be ${range}, got ${value}`)
  }
  return value
}

/**
 * Throws a `TypeError` unless `value` is a number. Its range is the engine's to check (one rule,
 * one place): use this for every number that crosses into Rust, and {@link expectInteger} only
 * for numbers that JavaScript alone uses.
 */
export function expectNumber(name: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${describe(value)}`)
  }
  return value
}

/** As {@link expectNumber}, for an optional argument (`undefined` passes). */
export function optionalNumber(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : expectNumber(name, value)
}

/** Throws a `TypeError` unless `value` is a non-null object (not an array). */
export function expectObject(name: string, value: unknown): asserts value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, got ${describe(value)}`)
  }
}

/** Throws a `TypeError` unless `value` is undefined or a plain object. */
export function expectOptions(name: string, value: unknown): void {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new TypeError(`${name} must be an object, got ${describe(value)}`)
  }
}

/** An engine error as the JavaScript error class it stands for. */
export function translate(error: unknown): unknown {
  if (error instanceof Error && (error as Error & { code?: string }).code === 'InvalidArg') {
    const ranged = new RangeError(error.message)
    Error.captureStackTrace?.(ranged, translate)
    return ranged
  }
  return error
}

/** Runs a native call, rethrowing engine argument errors as `RangeError`. */
export function native<T>(call: () => T): T {
  try {
    return call()
  } catch (error) {
    throw translate(error)
  }
}

/** Awaits a native Promise, rethrowing engine argument errors as `RangeError`. */
export async function nativeAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw translate(error)
  }
}
