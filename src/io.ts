import {
  NativeDataset,
  NativeIdMap,
  NativeInteractions,
  load as nativeLoad,
  loadAsync as nativeLoadAsync,
  openDataset as nativeOpenDataset,
  synthetic as nativeSynthetic,
  syntheticAsync as nativeSyntheticAsync,
  writeAdjacencyFile,
} from '../native/index.js'
import type { NativeLoadOptions, NativeProposalSpec } from '../native/index.js'
import {
  describe,
  expectInt32Array,
  expectInteger,
  expectNumber,
  expectOptions,
  native,
  nativeAsync,
  optionalNumber,
} from './errors'
import { Interactions, nativeInteractions } from './interactions'
import type { ProposalName } from './sampler'

/** Called between blocks of a long load: bytes read so far and the total (over all files). */
export type ProgressCallback = (bytesRead: number, totalBytes: number) => void

/** Options every loader takes. */
export interface LoadOptions {
  /**
   * Progress callback, called after each block (16 MiB) and once at the end. In the `...Async`
   * loaders it runs on the JavaScript thread while the load runs elsewhere; updates may be
   * dropped if the thread is busy. An exception it throws is rethrown when the load ends.
   */
  onProgress?: ProgressCallback
  /**
   * Drop users with fewer interactions. Iterated to a fixed point together with
   * `minItemInteractions` (a k-core): every remaining user has at least this many remaining
   * items. Counts are of distinct pairs. Survivors get new dense ids; the id maps name them.
   */
  minUserInteractions?: number
  /** Drop items with fewer interactions (see `minUserInteractions`). */
  minItemInteractions?: number
}

/** Options of {@link loadAdjacency}. */
export interface AdjacencyOptions extends LoadOptions {
  /** Number of users; every user id must be below it. Default: the largest id over all files + 1. */
  numUsers?: number
  /** Number of items; every item id must be below it. Default: the largest id over all files + 1. */
  numItems?: number
}

/** Options of {@link loadDelimited}. */
export interface DelimitedOptions extends LoadOptions {
  /** Field separator, one or more characters. Default `'\t'` for `.tsv` files, else `','`. */
  delimiter?: string
  /** Whether the first line names the columns. Default `true`. */
  header?: boolean
  /** User column: a header name or a 0-based index. Default `0`. */
  user?: string | number
  /** Item column: a header name or a 0-based index. Default `1`. */
  item?: string | number
  /** Rating column (a name or an index), needed by `minRating`. */
  rating?: string | number
  /** Keep only rows whose rating is at least this (explicit feedback as implicit positives). */
  minRating?: number
}

/** Options of {@link loadMovieLens}. */
export interface MovieLensOptions extends LoadOptions {
  /** Keep only ratings at least this (for instance 4: "liked"). Default: every rating. */
  minRating?: number
}

/** A proposal whose alias table {@link Dataset.save} stores in the file. */
export interface StoredProposal {
  /** The proposal's name. */
  proposal: ProposalName
  /** The popularity exponent (default 0.75). */
  alpha?: number
  /** One weight per item for `'weights'`. */
  weights?: Float32Array | Float64Array
}

/** Options of {@link Dataset.save}. */
export interface SaveOptions {
  /**
   * Proposals whose alias tables to store (8 bytes per item each). A {@link Sampler} built on
   * the opened file with the same proposal uses the stored table: the same draws, without
   * rebuilding it. Default: none.
   */
  proposals?: StoredProposal[]
}

/** Options of {@link openDataset}. */
export interface OpenOptions {
  /**
   * Check every section's checksum and the structure (rows sorted, ids in range): one pass
   * over the file, on all cores. Default `true`. With `false` only the header and directory
   * are checked, and opening takes milliseconds whatever the size.
   */
  verify?: boolean
}

/** Options of {@link synthetic}. */
export interface SyntheticOptions {
  /** Number of users, >= 1. */
  numUsers: number
  /** Number of items, >= 2. */
  numItems: number
  /** Number of distinct (user, item) positives, at most `numUsers * floor(numItems / 2)`. */
  numInteractions: number
  /** Zipf exponent of item popularity, in [0, 16]. Default 1. */
  itemExponent?: number
  /** Power-law exponent of user activity, in [0, 16]. Default 0.5. */
  userExponent?: number
  /** Seed, an integer in [0, 2^64). Default 0. */
  seed?: number | bigint
}

function wrapInteractions(handle: NativeInteractions): Interactions {
  // The constructor is private to the public API; loaders in this package may call it.
  return new (Interactions as unknown as new (h: NativeInteractions) => Interactions)(handle)
}

function expectString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${describe(value)}`)
}

function columnOf(name: string, value: unknown, fallback: number): string | number {
  if (value === undefined) return fallback
  if (typeof value === 'string' || typeof value === 'number') return value
  throw new TypeError(`${name} must be a column name (string) or index (number), got ${describe(value)}`)
}

/** Wraps a user's progress callback so that it never throws into native code. */
function progressOf(options: LoadOptions): {
  callback?: (done: number, total: number) => void
  settled: () => Promise<void>
  rethrow: () => void
} {
  const user = options.onProgress
  if (user === undefined) return { settled: async () => {}, rethrow: () => {} }
  if (typeof user !== 'function') throw new TypeError(`options.onProgress must be a function, got ${describe(user)}`)
  let failure: { error: unknown } | undefined
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolve) => (finish = resolve))
  return {
    callback: (done, total) => {
      if (done >= total) finish()
      if (failure !== undefined) return
      try {
        user(done, total)
      } catch (error) {
        failure = { error }
      }
    },
    // The last report of a load is always (total, total). From a worker thread it is queued to
    // the JavaScript thread and may arrive after the load's Promise settles: wait for it (with a
    // bound, so that a lost report can delay but never hang a load).
    settled: () =>
      Promise.race([
        finished,
        new Promise<void>((resolve) => setTimeout(resolve, 2000).unref()),
      ]),
    rethrow: () => {
      if (failure !== undefined) throw failure.error
    },
  }
}

function filtersOf(options: LoadOptions): { minUserInteractions: number; minItemInteractions: number } {
  return {
    minUserInteractions: optionalNumber('options.minUserInteractions', options.minUserInteractions) ?? 0,
    minItemInteractions: optionalNumber('options.minItemInteractions', options.minItemInteractions) ?? 0,
  }
}

/** What the native loader reads: `paths` with `options`. */
interface LoadArgs {
  paths: string[]
  options: NativeLoadOptions
}

function adjacencyArgs(paths: unknown, options: AdjacencyOptions): LoadArgs {
  expectOptions('options', options)
  const list = Array.isArray(paths) ? paths : [paths]
  list.forEach((p, j) => expectString(Array.isArray(paths) ? `paths[${j}]` : 'path', p))
  return {
    paths: list as string[],
    options: {
      numUsers: optionalNumber('options.numUsers', options.numUsers),
      numItems: optionalNumber('options.numItems', options.numItems),
      ...filtersOf(options),
    },
  }
}

function delimitedArgs(path: unknown, options: DelimitedOptions): LoadArgs {
  expectString('path', path)
  expectOptions('options', options)
  const delimiter = options.delimiter ?? (path.toLowerCase().endsWith('.tsv') ? '\t' : ',')
  expectString('options.delimiter', delimiter)
  if (options.header !== undefined && typeof options.header !== 'boolean') {
    throw new TypeError(`options.header must be a boolean, got ${describe(options.header)}`)
  }
  if (options.minRating !== undefined && typeof options.minRating !== 'number') {
    throw new TypeError(`options.minRating must be a number, got ${describe(options.minRating)}`)
  }
  return {
    paths: [path],
    options: {
      delimited: {
        delimiter,
        header: options.header ?? true,
        user: columnOf('options.user', options.user, 0),
        item: columnOf('options.item', options.item, 1),
        rating: options.rating === undefined ? undefined : columnOf('options.rating', options.rating, 2),
        minRating: options.minRating,
      },
      ...filtersOf(options),
    },
  }
}

/** One load on the JavaScript thread: every loader's synchronous form. */
function loadNow({ paths, options }: LoadArgs, load: LoadOptions): Dataset[] {
  const progress = progressOf(load)
  const handles = native(() => nativeLoad(paths, options, progress.callback))
  progress.rethrow()
  return handles.map((h) => Dataset.wrap(h))
}

/** One load off the JavaScript thread: every loader's `...Async` form. */
async function loadLater({ paths, options }: LoadArgs, load: LoadOptions): Promise<Dataset[]> {
  const progress = progressOf(load)
  const handles = await nativeAsync(() => nativeLoadAsync(paths, options, progress.callback))
  await progress.settled()
  progress.rethrow()
  return handles.map((h) => Dataset.wrap(h))
}

function movieLensArgs(path: unknown, options: MovieLensOptions): DelimitedOptions {
  expectString('path', path)
  expectOptions('options', options)
  const dat = path.toLowerCase().endsWith('.dat')
  return {
    ...options,
    delimiter: dat ? '::' : ',',
    header: !dat,
    user: dat ? 0 : 'userId',
    item: dat ? 1 : 'movieId',
    rating: dat ? 2 : 'rating',
  }
}

const datasets = new WeakMap<Dataset, NativeDataset>()

/**
 * A data set: the training positives as an {@link Interactions} matrix, with the id maps that
 * turn file ids into the dense ids the matrix uses and back. Returned by the loaders and by
 * {@link openDataset}; {@link Dataset.fromInteractions} wraps a matrix you built.
 *
 * Memory: the matrix (8 bytes per user, 4 per interaction) and the id maps (12 bytes per id,
 * plus the bytes of string ids). An opened file holds all of them in a shared memory mapping.
 */
export class Dataset {
  /** The positives, in dense ids. */
  readonly interactions: Interactions
  /** User ids as the file names them (absent: dense ids are the file's ids). */
  readonly users?: IdMap
  /** Item ids as the file names them (absent: dense ids are the file's ids). */
  readonly items?: IdMap

  private constructor(handle: NativeDataset) {
    datasets.set(this, handle)
    this.interactions = wrapInteractions(handle.interactions())
    const users = handle.users()
    const items = handle.items()
    if (users) this.users = new IdMap(users)
    if (items) this.items = new IdMap(items)
  }

  /** @internal */
  static wrap(handle: NativeDataset): Dataset {
    return new Dataset(handle)
  }

  /** A dataset of a matrix you built (no id maps), to {@link Dataset.save} it. */
  static fromInteractions(interactions: Interactions): Dataset {
    const handle = interactions instanceof Interactions ? nativeInteractions(interactions) : undefined
    if (handle === undefined) throw new TypeError(`interactions must be an Interactions, got ${describe(interactions)}`)
    return new Dataset(native(() => NativeDataset.fromInteractions(handle)))
  }

  private get handle(): NativeDataset {
    return datasets.get(this)!
  }

  /** Whether the arrays live in a memory-mapped file (shared by every process that opens it). */
  get mapped(): boolean {
    return this.handle.mapped
  }

  /** For an opened file, its size in bytes. */
  get fileBytes(): number | undefined {
    return this.handle.fileBytes ?? undefined
  }

  /** For an opened file, the proposals whose alias tables it stores. */
  storedProposals(): {
    /** The proposal whose alias table is stored. */
    proposal: ProposalName
    /** Its popularity exponent (`'popularity'` only). */
    alpha?: number
  }[] {
    return this.handle.storedProposals().map((p) => ({
      proposal: p.proposal as ProposalName,
      ...(p.alpha === undefined || p.alpha === null ? {} : { alpha: p.alpha }),
    }))
  }

  /**
   * Saves the matrix, the id maps and the alias tables of `options.proposals` to one versioned,
   * checksummed binary file, written beside `path` and renamed into place (a reader never sees
   * half a file). Open it with {@link openDataset}.
   *
   * Cost: one sequential write of about 4 bytes per interaction, 8 per user, 12 per mapped id and
   * 8 per item per stored table, plus building each table (O(numItems)).
   *
   * @throws TypeError on wrong argument types.
   * @throws RangeError for a bad proposal; Error if the file cannot be written.
   */
  save(path: string, options: SaveOptions = {}): void {
    const specs = saveArgs(path, options)
    native(() => this.handle.save(path, specs))
  }

  /** As {@link Dataset.save}, off the JavaScript thread. */
  async saveAsync(path: string, options: SaveOptions = {}): Promise<void> {
    const specs = saveArgs(path, options)
    await nativeAsync(() => this.handle.saveAsync(path, specs))
  }

  /** Writes the positives as CSV (`user,item` header), with the original ids. */
  writeCsv(path: string): void {
    expectString('path', path)
    native(() => this.handle.writeCsv(path))
  }
}

function saveArgs(path: unknown, options: SaveOptions): NativeProposalSpec[] {
  expectString('path', path)
  expectOptions('options', options)
  const proposals = options.proposals ?? []
  if (!Array.isArray(proposals)) throw new TypeError(`options.proposals must be an array, got ${describe(proposals)}`)
  return proposals.map((p, j) => {
    expectOptions(`options.proposals[${j}]`, p)
    if (p.alpha !== undefined && typeof p.alpha !== 'number') {
      throw new TypeError(`options.proposals[${j}].alpha must be a number, got ${describe(p.alpha)}`)
    }
    const w = p.weights
    return {
      proposal: String(p.proposal),
      alpha: p.alpha,
      weights: w === undefined ? undefined : w instanceof Float64Array ? w : Float64Array.from(w),
    }
  })
}

const idMaps = new WeakMap<IdMap, NativeIdMap>()

/**
 * Original ids (sparse integers or strings, as in the file) and the dense ids `0..size` the
 * engine uses, both ways. Dense ids follow the order of first appearance in the file.
 * Integer ids come back as numbers, any other ids as strings.
 *
 * Lookups are binary searches (O(log size)); memory: 12 bytes per id plus string bytes.
 */
export class IdMap {
  /** @internal */
  constructor(handle: NativeIdMap) {
    idMaps.set(this, handle)
  }

  private get handle(): NativeIdMap {
    return idMaps.get(this)!
  }

  /** Number of ids. */
  get size(): number {
    return this.handle.size
  }

  /** Whether the original ids are integers (returned as numbers). */
  get numeric(): boolean {
    return this.handle.numeric
  }

  /** The dense id of one original id, or `undefined` if the map does not have it. */
  toDense(id: string | number): number | undefined
  /** Dense ids of many original ids, with -1 where the map does not have one. */
  toDense(ids: readonly (string | number)[] | Float64Array): Int32Array
  toDense(ids: string | number | readonly (string | number)[] | Float64Array): number | undefined | Int32Array {
    if (typeof ids === 'string' || typeof ids === 'number') {
      const d = native(() => this.handle.denseOf(ids))
      return d < 0 ? undefined : d
    }
    if (ids instanceof Float64Array) return native(() => this.handle.denseOfNumbers(ids))
    if (!Array.isArray(ids)) throw new TypeError(`ids must be a string, number or array, got ${describe(ids)}`)
    if (ids.every((v) => typeof v === 'number')) {
      return native(() => this.handle.denseOfNumbers(Float64Array.from(ids as number[])))
    }
    ids.forEach((v, j) => {
      if (typeof v !== 'string' && typeof v !== 'number') {
        throw new TypeError(`ids[${j}] must be a string or number, got ${describe(v)}`)
      }
    })
    return native(() => this.handle.denseOfStrings(ids.map(String)))
  }

  /** The original id of a dense id. @throws RangeError unless `dense` is an integer in `[0, size)`. */
  toOriginal(dense: number): string | number
  /** The original ids of dense ids: numbers for a numeric map, else strings. */
  toOriginal(dense: Int32Array): (string | number)[]
  toOriginal(dense: number | Int32Array): string | number | (string | number)[] {
    if (typeof dense === 'number') {
      return native(() => this.handle.original(dense))
    }
    expectInt32Array('dense', dense)
    const out = native(() => this.handle.originals(dense))
    return out instanceof Float64Array ? Array.from(out) : out
  }
}

/**
 * Reads adjacency files (`user item item ...` per line, the format of the LightGCN-style
 * splits). Ids are kept as they are. Several files (for instance `train.txt`, `valid.txt`,
 * `test.txt`) share one id space: the counts are the largest ids over all of them + 1, so
 * items seen only in `test` exist in `train`'s matrix.
 *
 * Lines are parsed on all cores, in 16 MiB blocks.
 *
 * @returns one {@link Dataset} for a path, an array for an array of paths (in the same order).
 * @throws TypeError on wrong argument types.
 * @throws RangeError for an empty array of paths, a malformed file (the message names the file,
 *   the line and the token), a count or minimum that is not an integer in [0, 2^31 - 1], an id
 *   not below a given count, or filters with several files.
 * @throws Error if a file cannot be read.
 */
export function loadAdjacency(path: string, options?: AdjacencyOptions): Dataset
export function loadAdjacency(paths: string[], options?: AdjacencyOptions): Dataset[]
export function loadAdjacency(paths: string | string[], options: AdjacencyOptions = {}): Dataset | Dataset[] {
  const out = loadNow(adjacencyArgs(paths, options), options)
  return Array.isArray(paths) ? out : out[0]!
}

/** As {@link loadAdjacency}, off the JavaScript thread. */
export function loadAdjacencyAsync(path: string, options?: AdjacencyOptions): Promise<Dataset>
export function loadAdjacencyAsync(paths: string[], options?: AdjacencyOptions): Promise<Dataset[]>
export async function loadAdjacencyAsync(paths: string | string[], options: AdjacencyOptions = {}): Promise<Dataset | Dataset[]> {
  const out = await loadLater(adjacencyArgs(paths, options), options)
  return Array.isArray(paths) ? out : out[0]!
}

/**
 * Reads a delimited file (CSV, TSV, any delimiter) of (user, item[, rating]) rows. Ids may be
 * any strings; they get dense ids in order of first appearance, and the dataset's `users` /
 * `items` maps turn them back. Every line must have as many fields as the header (or the first
 * line): a malformed line, or one cut before its last field, is an error naming the file and the
 * line; no line is skipped. Double-quoted fields and `\r\n` line ends are read.
 *
 * @throws TypeError on wrong argument types.
 * @throws RangeError for a malformed line (file and line named), a column not in the header
 *   (the header is listed), or bad options.
 * @throws Error if the file cannot be read.
 */
export function loadDelimited(path: string, options: DelimitedOptions = {}): Dataset {
  return loadNow(delimitedArgs(path, options), options)[0]!
}

/** As {@link loadDelimited}, off the JavaScript thread. */
export async function loadDelimitedAsync(path: string, options: DelimitedOptions = {}): Promise<Dataset> {
  return (await loadLater(delimitedArgs(path, options), options))[0]!
}

/**
 * Reads MovieLens ratings: `ratings.dat` (`UserID::MovieID::Rating::Timestamp`, no header) or
 * `ratings.csv` (`userId,movieId,rating,timestamp` with a header), chosen by the extension.
 * Every rating is a positive unless `minRating` is given.
 *
 * @throws As {@link loadDelimited}.
 */
export function loadMovieLens(path: string, options: MovieLensOptions = {}): Dataset {
  return loadDelimited(path, movieLensArgs(path, options))
}

/** As {@link loadMovieLens}, off the JavaScript thread. */
export async function loadMovieLensAsync(path: string, options: MovieLensOptions = {}): Promise<Dataset> {
  return loadDelimitedAsync(path, movieLensArgs(path, options))
}

/**
 * Opens a file written by {@link Dataset.save}, memory-mapped: the matrix, id maps and stored
 * alias tables stay in the file's pages, which every process (and worker thread) that opens the
 * same file shares. Opening costs milliseconds with `verify: false`, one pass over the file
 * with the default `verify: true`. The file must not be modified while open ({@link
 * Dataset.save} replaces files by renaming, which is safe).
 *
 * @throws TypeError on wrong argument types.
 * @throws RangeError if the file is not a negsample file, has another format version, is
 *   truncated or corrupt (the message says which).
 * @throws Error if the file cannot be opened.
 */
export function openDataset(path: string, options: OpenOptions = {}): Dataset {
  expectString('path', path)
  expectOptions('options', options)
  const verify = options.verify ?? true
  if (typeof verify !== 'boolean') throw new TypeError(`options.verify must be a boolean, got ${describe(verify)}`)
  return Dataset.wrap(native(() => nativeOpenDataset(path, verify)))
}

function syntheticArgs(options: SyntheticOptions) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object with numUsers, numItems and numInteractions, got ${describe(options)}`)
  }
  const seed = options.seed ?? 0
  if (typeof seed !== 'number' && typeof seed !== 'bigint') {
    throw new TypeError(`options.seed must be a number or bigint, got ${describe(seed)}`)
  }
  if (typeof seed === 'number') expectInteger('options.seed', seed, 0)
  if (typeof seed === 'bigint' && (seed < 0n || seed >= 2n ** 64n)) {
    throw new RangeError(`options.seed must be an integer in [0, 2^64), got ${seed}`)
  }
  for (const name of ['itemExponent', 'userExponent'] as const) {
    const v = options[name]
    if (v !== undefined && typeof v !== 'number') throw new TypeError(`options.${name} must be a number, got ${describe(v)}`)
  }
  return {
    numUsers: expectNumber('options.numUsers', options.numUsers),
    numItems: expectNumber('options.numItems', options.numItems),
    numInteractions: expectNumber('options.numInteractions', options.numInteractions),
    itemExponent: options.itemExponent ?? 1,
    userExponent: options.userExponent ?? 0.5,
    seed: BigInt(seed),
  }
}

/**
 * Seeded synthetic implicit feedback: item popularity is Zipf(`itemExponent`) and user activity
 * a power law (`userExponent`), over shuffled ids. Every user has at least one positive when
 * there are at least as many interactions as users; `nnz` equals `numInteractions` unless a
 * user's share is capped at half the catalogue. Same options and seed, same matrix, on any
 * machine and thread count.
 *
 * Cost: O(numInteractions) on all cores; memory: the matrix (4 bytes per interaction, 8 per user).
 *
 * @throws RangeError for counts or exponents out of range (the option is named).
 */
export function synthetic(options: SyntheticOptions): Interactions {
  const opts = syntheticArgs(options)
  return wrapInteractions(native(() => nativeSynthetic(opts)))
}

/** As {@link synthetic}, off the JavaScript thread. */
export async function syntheticAsync(options: SyntheticOptions): Promise<Interactions> {
  const opts = syntheticArgs(options)
  return wrapInteractions(await nativeAsync(() => nativeSyntheticAsync(opts)))
}

/** Writes a matrix as adjacency lines (`user item item ...`, one line per user with positives). */
export function writeAdjacency(interactions: Interactions, path: string): void {
  const handle = interactions instanceof Interactions ? nativeInteractions(interactions) : undefined
  if (handle === undefined) throw new TypeError(`interactions must be an Interactions, got ${describe(interactions)}`)
  expectString('path', path)
  native(() => writeAdjacencyFile(handle, path))
}
