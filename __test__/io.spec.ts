/**
 * Loaders, id maps, the binary file and the synthetic generator, through the JavaScript API.
 * Real-data tests use ../shared/data and skip with a message where it is absent.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

import {
  Dataset,
  Interactions,
  Sampler,
  loadAdjacency,
  loadAdjacencyAsync,
  loadDelimited,
  loadDelimitedAsync,
  loadMovieLens,
  openDataset,
  synthetic,
  syntheticAsync,
  writeAdjacency,
} from '../src/index'

const DATA = path.resolve(__dirname, '../../shared/data')
const HAS_DATA = fs.existsSync(DATA)
if (!HAS_DATA) console.warn(`[io.spec] real-data tests skipped: ${DATA} is absent`)

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'negsample-io-'))
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }))

function temp(name: string, contents: string | Uint8Array): string {
  const file = path.join(TMP, name)
  fs.writeFileSync(file, contents)
  return file
}

/** Every (user, item) pair of a matrix as "u,i" strings. */
function pairs(m: Interactions): Set<string> {
  const indptr = m.indptr()
  const indices = m.indices()
  const out = new Set<string>()
  for (let u = 0; u < m.numUsers; u++) {
    for (let j = indptr[u]!; j < indptr[u + 1]!; j++) out.add(`${u},${indices[j]}`)
  }
  return out
}

/** A straightforward reference parse of adjacency lines. */
function referenceAdjacency(file: string): { pairs: Set<string>; maxUser: number; maxItem: number } {
  const out = new Set<string>()
  let maxUser = -1
  let maxItem = -1
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const ids = line.trim().split(/\s+/).filter(Boolean).map(Number)
    if (ids.length === 0) continue
    const [u, ...items] = ids as [number, ...number[]]
    maxUser = Math.max(maxUser, u)
    for (const i of items) {
      out.add(`${u},${i}`)
      maxItem = Math.max(maxItem, i)
    }
  }
  return { pairs: out, maxUser, maxItem }
}

describe.skipIf(!HAS_DATA)('real data sets', () => {
  it('loads lastfm and ml-1m splits in one id space (cold items in test only)', () => {
    for (const name of ['lastfm', 'ml-1m']) {
      const files = ['train.txt', 'valid.txt', 'test.txt'].map((f) => path.join(DATA, name, f))
      const progress: [number, number][] = []
      const splits = loadAdjacency(files, { onProgress: (done, total) => progress.push([done, total]) })
      const refs = files.map(referenceAdjacency)
      const numItems = Math.max(...refs.map((r) => r.maxItem)) + 1
      expect(refs[2]!.maxItem).toBeGreaterThan(refs[0]!.maxItem) // cold items exist
      splits.forEach((split, j) => {
        expect(split.interactions.numItems).toBe(numItems)
        expect(split.interactions.numUsers).toBe(Math.max(...refs.map((r) => r.maxUser)) + 1)
        expect(pairs(split.interactions)).toEqual(refs[j]!.pairs)
        expect(split.users).toBeUndefined()
      })
      const total = files.reduce((s, f) => s + fs.statSync(f).size, 0)
      expect(progress.at(-1)).toEqual([total, total])
    }
  })

  it('loads MovieLens ratings.csv with a header, sparse ids and id maps both ways', async () => {
    const file = path.join(DATA, 'movielens-small/ratings.csv')
    const data = loadMovieLens(file)
    expect([data.interactions.numUsers, data.interactions.numItems]).toEqual([671, 9066])
    const raw = new Set<string>()
    for (const line of fs.readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const [u, i] = line.split(',')
      raw.add(`${u},${i}`)
    }
    expect(data.interactions.nnz).toBe(raw.size)
    const users = data.users!
    const items = data.items!
    expect(users.numeric && items.numeric).toBe(true)
    expect(users.size).toBe(data.interactions.numUsers)
    expect(items.size).toBe(data.interactions.numItems)
    // Dense ids follow first appearance: user 1 and movie 31 open the file.
    expect(users.toOriginal(0)).toBe(1)
    expect(items.toDense(31)).toBe(0)
    expect(items.toDense('31')).toBe(0)
    expect(items.toDense(999_999_999)).toBeUndefined()
    expect(Array.from(items.toDense([31, 1029, 999_999_999]))).toEqual([0, 1, -1])
    // Every matrix pair maps back to a raw pair.
    const back = new Set<string>()
    const m = data.interactions
    for (let u = 0; u < m.numUsers; u++) {
      const originals = items.toOriginal(m.row(u))
      for (const i of originals) back.add(`${users.toOriginal(u)},${i}`)
    }
    expect(back).toEqual(raw)

    const liked = await loadDelimitedAsync(file, { user: 'userId', item: 'movieId', rating: 'rating', minRating: 4 })
    expect(liked.interactions.nnz).toBeLessThan(raw.size)
    const core = loadMovieLens(file, { minUserInteractions: 20, minItemInteractions: 20 })
    const pop = core.interactions.popularity()
    expect(pop.every((c) => c >= 20)).toBe(true)
    for (let u = 0; u < core.interactions.numUsers; u++) expect(core.interactions.row(u).length).toBeGreaterThanOrEqual(20)
  })
})

describe('malformed files and bad arguments', () => {
  it('names the file, the line and the problem', () => {
    const bad = temp('bad.txt', '0 1 2\n1 3 4\n\n2 5 x7 8\n')
    expect(() => loadAdjacency(bad)).toThrow(RangeError)
    expect(() => loadAdjacency(bad)).toThrow(`${bad}:4: item id 'x7' is not a non-negative integer`)
    const cut = temp('cut.csv', 'u,i,r\n1,2,3.0\n1,3,4.0\n2,3')
    expect(() => loadDelimited(cut, { rating: 'r' })).toThrow(`${cut}:4: the line has 2 fields, expected 3 (as the header)`)
    const header = temp('header.csv', 'userId,movieId\n1,2\n')
    expect(() => loadDelimited(header, { user: 'user' })).toThrow(/user must be a column of the header \(userId, movieId\), got 'user'/)
  })

  it('a missing file is an Error naming it; wrong types are TypeErrors', async () => {
    const missing = path.join(TMP, 'nope.csv')
    expect(() => loadDelimited(missing)).toThrow(missing)
    try {
      loadDelimited(missing)
    } catch (error) {
      expect(error).toBeInstanceOf(Error)
      expect(error).not.toBeInstanceOf(RangeError)
    }
    await expect(loadAdjacencyAsync(missing)).rejects.toThrow(missing)
    expect(() => loadDelimited(42 as unknown as string)).toThrow(TypeError)
    expect(() => loadDelimited(missing, { user: {} as unknown as string })).toThrow(TypeError)
    expect(() => loadAdjacency(missing, { onProgress: 1 as unknown as () => void })).toThrow(TypeError)
    expect(() => loadAdjacency([])).toThrow(RangeError)
    expect(() => openDataset(missing, { verify: 'yes' as unknown as boolean })).toThrow(TypeError)
  })

  it('bad option values are RangeErrors from the engine naming the option and the value', async () => {
    const file = temp('values.txt', '0 1 2\n1 2\n')
    const csv = temp('values.csv', 'u,i\n1,2\n')
    const cases: [() => unknown, RegExp][] = [
      [() => loadAdjacency([]), /^paths must be a list of at least one file, got an empty list$/],
      [() => loadAdjacency(file, { numUsers: -1 }), /^numUsers must be a non-negative safe integer, got -1$/],
      [() => loadAdjacency(file, { numItems: 2 ** 31 }), /^numItems must be at most 2147483647, got 2147483648$/],
      [() => loadAdjacency(file, { minUserInteractions: 1.5 }), /^minUserInteractions must be a non-negative safe integer, got 1\.5$/],
      [() => loadDelimited(csv, { minItemInteractions: 2 ** 31 }), /^minItemInteractions must be at most 2147483647, got 2147483648$/],
      [() => loadDelimited(csv, { item: NaN }), /^item must be a non-negative safe integer, got NaN$/],
      [() => loadDelimited(csv, { user: 7 }), /^user must be a column index below 2 \(the number of fields\), got 7$/],
      [() => synthetic({ numUsers: 0, numItems: 10, numInteractions: 1 }), /^numUsers must be an integer in \[1, 2\^31 - 1\], got 0$/],
      [() => synthetic({ numUsers: 10, numItems: -3, numInteractions: 1 }), /^numItems must be a non-negative safe integer, got -3$/],
      [() => synthetic({ numUsers: 10, numItems: 10, numInteractions: 0.5 }), /^numInteractions must be a non-negative safe integer, got 0\.5$/],
      [() => loadAdjacency(file).interactions.row(2), /^user must be an integer in \[0, 1\], got 2$/],
      [() => loadDelimited(csv).users!.toOriginal(1), /^dense must be an integer in \[0, 0\], got 1$/],
      [() => loadDelimited(csv).users!.toOriginal(-1), /^dense must be a non-negative safe integer, got -1$/],
    ]
    for (const [call, message] of cases) {
      expect(call).toThrow(RangeError)
      expect(call).toThrow(message)
    }
    await expect(loadAdjacencyAsync(file, { numUsers: -1 })).rejects.toThrow(/^numUsers must be a non-negative safe integer, got -1$/)
    await expect(loadDelimitedAsync(csv, { minUserInteractions: 2 ** 31 })).rejects.toBeInstanceOf(RangeError)
    await expect(syntheticAsync({ numUsers: 1, numItems: 1, numInteractions: 0 })).rejects.toThrow(/^numItems must be an integer in \[2, 2\^31 - 1\], got 1$/)
    // Types are still checked in TypeScript.
    expect(() => loadAdjacency(file, { numUsers: '4' as unknown as number })).toThrow(/^options\.numUsers must be a number, got string "4"$/)
    expect(() => synthetic({ numUsers: 10n as unknown as number, numItems: 10, numInteractions: 1 })).toThrow(TypeError)
    expect(() => loadDelimited(csv).users!.toOriginal('0' as unknown as number)).toThrow(TypeError)
  })

  it('an exception in onProgress is rethrown after the load', async () => {
    const file = temp('ok.txt', '0 1\n1 2\n')
    const boom = () => {
      throw new Error('stop')
    }
    expect(() => loadAdjacency(file, { onProgress: boom })).toThrow('stop')
    await expect(loadAdjacencyAsync(file, { onProgress: boom })).rejects.toThrow('stop')
    // Every report arrives before the Promise settles, the last one being (total, total).
    const reports: [number, number][] = []
    await loadAdjacencyAsync(file, { onProgress: (done, total) => reports.push([done, total]) })
    expect(reports.at(-1)).toEqual([8, 8])
  })
})

describe('binary file', () => {
  const train = synthetic({ numUsers: 2000, numItems: 700, numInteractions: 40_000, seed: 3 })

  function trace(sampler: Sampler): number[] {
    const users = Int32Array.from({ length: 500 }, (_, j) => j)
    const out: number[] = Array.from(sampler.negatives(users, 3))
    const indices = train.indices()
    const indptr = train.indptr()
    const us = new Int32Array(300)
    const is = new Int32Array(300)
    for (let j = 0; j < 300; j++) {
      us[j] = j
      is[j] = indices[indptr[j]!]!
    }
    const batch = sampler.pairwise(us, is, 2)
    out.push(...batch.negatives, ...sampler.pointwise(us, is, 2).items)
    for (const b of sampler.epoch({ batchSize: 4096, negatives: 1 })) out.push(...b.users, ...b.negatives)
    return out
  }

  it('round-trips with byte-identical sampling, from a stored or a rebuilt table', async () => {
    const file = path.join(TMP, 'train.nsb')
    await Dataset.fromInteractions(train).saveAsync(file, { proposals: [{ proposal: 'popularity', alpha: 0.75 }] })
    const opened = openDataset(file)
    expect(opened.mapped).toBe(true)
    expect(opened.fileBytes).toBe(fs.statSync(file).size)
    expect(opened.storedProposals()).toEqual([{ proposal: 'popularity', alpha: 0.75 }])
    expect(opened.interactions.indices()).toEqual(train.indices())
    expect(opened.interactions.indptr()).toEqual(train.indptr())
    for (const options of [
      { proposal: 'popularity' as const, alpha: 0.75, seed: 9 },
      { proposal: 'popularity' as const, alpha: 0.5, seed: 9 },
      { proposal: 'uniform' as const, seed: 9 },
    ]) {
      expect(trace(new Sampler(opened.interactions, options))).toEqual(trace(new Sampler(train, options)))
    }
    const fast = openDataset(file, { verify: false })
    expect(fast.interactions.nnz).toBe(train.nnz)
  })

  it('keeps id maps, and refuses other versions and corrupt files', () => {
    const csv = temp('plays.csv', 'user,song\nalice,blue\nbob,green\nalice,red\n')
    const data = loadDelimited(csv)
    const file = path.join(TMP, 'plays.nsb')
    data.save(file)
    const opened = openDataset(file)
    expect(opened.users!.toOriginal(Int32Array.of(0, 1))).toEqual(['alice', 'bob'])
    expect(opened.items!.toDense('red')).toBe(2)
    expect(opened.interactions.row(0)).toEqual(Int32Array.of(0, 2))

    const bytes = fs.readFileSync(file)
    const version = Buffer.from(bytes)
    version.writeUInt32LE(99, 8)
    const v = temp('version.nsb', version)
    expect(() => openDataset(v)).toThrow(RangeError)
    expect(() => openDataset(v)).toThrow(/format version 99, and this build of negsample reads version 1/)
    const flipped = Buffer.from(bytes)
    flipped[flipped.length - 2]! ^= 0xff
    const c = temp('corrupt.nsb', flipped)
    expect(() => openDataset(c)).toThrow(/checksum of section .* does not match: the file is corrupt/)
    const t = temp('truncated.nsb', bytes.subarray(0, bytes.length - 5))
    expect(() => openDataset(t)).toThrow(/truncated/)
    expect(() => openDataset(csv)).toThrow(/magic bytes/)
  })
})

describe('synthetic', () => {
  it('is seeded, sized as asked, and checks its options', async () => {
    const a = synthetic({ numUsers: 500, numItems: 1000, numInteractions: 20_000, seed: 1n })
    const b = await syntheticAsync({ numUsers: 500, numItems: 1000, numInteractions: 20_000, seed: 1 })
    expect([a.numUsers, a.numItems, a.nnz]).toEqual([500, 1000, 20_000])
    expect(a.indices()).toEqual(b.indices())
    const c = synthetic({ numUsers: 500, numItems: 1000, numInteractions: 20_000, seed: 2 })
    expect(c.indices()).not.toEqual(a.indices())
    expect(() => synthetic({ numUsers: 0, numItems: 10, numInteractions: 1 })).toThrow(RangeError)
    expect(() => synthetic({ numUsers: 10, numItems: 10, numInteractions: 51 })).toThrow(/numInteractions must be at most/)
    expect(() => synthetic({ numUsers: 10, numItems: 10, numInteractions: 5, itemExponent: -1 })).toThrow(RangeError)
    const file = path.join(TMP, 'synthetic.txt')
    writeAdjacency(a, file)
    expect(loadAdjacency(file, { numItems: 1000 }).interactions.indices()).toEqual(a.indices())
  })
})
