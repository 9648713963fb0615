// Inputs of the benchmark suites: seeded generators, popularity weights, the MovieLens-1M
// adjacency files and a synthetic interaction matrix. Everything is deterministic for a seed,
// so every contender in a run (and every run) sees the same inputs.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const DATA = path.resolve(REPO, '..', 'shared', 'data')

/**
 * sfc32 (Chris Doty-Humphrey's "small fast counting" generator, 128-bit state): a fast,
 * statistically good 32-bit PRNG written with 32-bit integer operations, which V8 compiles to
 * machine integers. Returns a function giving uint32 values.
 */
export function sfc32(seed) {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 15; i++) next()
  return next
}

/** mulberry32: seeded floats in [0, 1) for fixed benchmark data (not the engine's streams). */
export function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A uniform integer in [0, n) from a uint32 generator (multiply-shift; n < 2^21 keeps it exact enough). */
export function below(next, n) {
  return Math.floor((next() / 4294967296) * n)
}

/** A seeded random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n, seed) {
  const next = sfc32(seed)
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(((next() * 4294967296 + next()) / 2 ** 64) * (i + 1))
    const t = p[i]
    p[i] = p[j]
    p[j] = t
  }
  return p
}

/**
 * Popularity^alpha weights over `n` items: the item of popularity rank r (0-based) was
 * interacted with floor(10^6 / (r + 1)) + 1 times (a Zipf law with exponent 1, a long tail of
 * items seen once), and the ranks are spread over the item ids by a seeded permutation (popular
 * items are not all at small ids). Weight = count^alpha (word2vec's unigram^0.75).
 */
export function popularityWeights(n, seed, alpha = 0.75) {
  const perm = permutation(n, seed)
  const weights = new Float64Array(n)
  for (let r = 0; r < n; r++) weights[perm[r]] = Math.pow(Math.floor(1e6 / (r + 1)) + 1, alpha)
  return weights
}

/** Reads one adjacency file (`user item item ...` per line) into COO arrays. */
function readAdjacency(file) {
  const users = []
  const items = []
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    const ids = line.trim().split(' ')
    const u = Number(ids[0])
    for (let j = 1; j < ids.length; j++) {
      users.push(u)
      items.push(Number(ids[j]))
    }
  }
  return { users: Int32Array.from(users), items: Int32Array.from(items) }
}

/**
 * The training positives of an adjacency data set (`train.txt`), with the item count taken
 * over train, valid and test (some items occur only in the latter). `null` if absent.
 */
export function loadAdjacency(name) {
  const dir = path.join(DATA, name)
  const train = path.join(dir, 'train.txt')
  if (!fs.existsSync(train)) return null
  const { users, items } = readAdjacency(train)
  let numItems = 0
  let numUsers = 0
  for (const file of ['train.txt', 'valid.txt', 'test.txt']) {
    const f = path.join(dir, file)
    if (!fs.existsSync(f)) continue
    const coo = file === 'train.txt' ? { users, items } : readAdjacency(f)
    for (const i of coo.items) numItems = Math.max(numItems, i + 1)
    for (const u of coo.users) numUsers = Math.max(numUsers, u + 1)
  }
  return { users, items, numUsers, numItems, dir }
}

/**
 * A synthetic implicit-feedback matrix: `numUsers` users, `numItems` items and `nnz` draws of
 * (user, item) pairs, the user uniform (rows of Poisson(nnz / numUsers) length) and the item
 * from a Zipf(0.8) popularity law over shuffled item ids. Duplicate pairs collapse when the CSR
 * is built, so the matrix holds slightly fewer than `nnz` distinct positives.
 *
 * Memory: two Int32Arrays of `nnz` (400 MB for 5*10^7).
 */
export function syntheticCoo(numUsers, numItems, nnz, seed) {
  const next = sfc32(seed)
  // Zipf(0.8) over ranks by inversion of its continuous approximation: rank = floor(((n+1)^0.2 - 1) u + 1)^5 - 1
  // (the CDF of x^-0.8 on [1, n+1] is ((x^0.2) - 1) / ((n+1)^0.2 - 1)).
  const perm = permutation(numItems, seed + 1)
  const top = Math.pow(numItems + 1, 0.2) - 1
  const users = new Int32Array(nnz)
  const items = new Int32Array(nnz)
  for (let j = 0; j < nnz; j++) {
    users[j] = Math.floor((next() / 4294967296) * numUsers)
    const x = Math.pow((next() / 4294967296) * top + 1, 5)
    const rank = Math.min(numItems - 1, Math.floor(x) - 1)
    items[j] = perm[rank]
  }
  return { users, items, numUsers, numItems }
}

/** The users of every training positive, in a seeded shuffled order (an epoch's order). */
export function shuffledUsers(users, seed) {
  const perm = permutation(users.length, seed)
  const out = new Int32Array(users.length)
  for (let j = 0; j < users.length; j++) out[j] = users[perm[j]]
  return out
}
