/**
 * The main job end to end: `node examples/demo.mjs --quick` trains MF-BPR with each sampler on
 * the embedded synthetic data (and on LastFM where ../shared/data is present), prints the
 * results table, and exits 0. Needs the built package (`npm run build`; skipped otherwise).
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'

const REPO = path.resolve(__dirname, '..')
const LASTFM = path.resolve(REPO, '../shared/data/lastfm')
const built = fs.existsSync(path.join(REPO, 'dist', 'tfjs.js'))
if (!built) console.warn('[demo.spec] skipped: dist/ not built (run `npm run build`)')
const hasLastfm = fs.existsSync(path.join(LASTFM, 'train.txt'))
if (!hasLastfm) console.warn(`[demo.spec] LastFM run skipped: ${LASTFM} not found`)

function demo(...args: string[]) {
  const run = spawnSync(process.execPath, ['examples/demo.mjs', '--quick', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

function expectResultsTable(stdout: string): void {
  expect(stdout).toContain('collisions')
  expect(stdout).toMatch(/3\. results on the test split/)
  for (const header of ['Recall@20', 'NDCG@20', 'sampling share']) expect(stdout).toContain(header)
  for (const sampler of ["'uniform'", "'popularity'", "'hard'", "'(most popular)'"]) expect(stdout).toContain(sampler)
  // Every sampler's recall cell is a number in [0, 1].
  const results = stdout.slice(stdout.indexOf('3. results'))
  for (const sampler of ["'uniform'", "'popularity'", "'hard'"]) {
    const row = results.split('\n').find((line) => line.includes(sampler) && line.includes('│'))!
    const recall = Number(row.split('│')[3])
    expect(recall).toBeGreaterThanOrEqual(0)
    expect(recall).toBeLessThanOrEqual(1)
  }
}

describe.skipIf(!built)('npm run demo -- --quick', () => {
  it('trains on the embedded synthetic data, prints the table and exits 0', () => {
    const run = demo()
    expect(run.stderr).not.toMatch(/FAILED/)
    expect(run.status, run.stderr).toBe(0)
    expectResultsTable(run.stdout)
    expect(run.stdout).toMatch(/synthetic/)
  })

  it.skipIf(!hasLastfm)('trains on --data ../shared/data/lastfm', () => {
    const run = demo('--data', LASTFM, '--epochs', '1')
    expect(run.status, run.stderr).toBe(0)
    expectResultsTable(run.stdout)
    expect(run.stdout).toMatch(/1,885 users, 17,388 items, 64,315 train/)
  })

  it('trains with hard negatives alone, and rejects unknown samplers', () => {
    const run = demo('--samplers', 'hard', '--epochs', '1')
    expect(run.status, run.stderr).toBe(0)
    const results = run.stdout.slice(run.stdout.indexOf('3. results'))
    expect(results).toContain("'hard'")
    expect(results).not.toContain("'uniform'")
    const bad = demo('--samplers', 'nonsense')
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/unknown sampler 'nonsense'/)
  })

  it('stops each sampler after --patience epochs without a better validation recall, and reports its best epoch', () => {
    const ceiling = 12
    const run = demo('--epochs', String(ceiling), '--patience', '1', '--lr', '0.05')
    expect(run.status, run.stderr).toBe(0)
    const results = run.stdout.slice(run.stdout.indexOf('3. results'))
    let stopped = 0
    for (const sampler of ['uniform', 'popularity', 'hard']) {
      const row = results.split('\n').find((line) => line.includes(`'${sampler}'`) && line.includes('│'))!
      const cell = (row.split('│')[6] ?? '').trim().replace(/'/g, '')
      expect(cell).toMatch(/^\d+\/\d+$/)
      const [best, ran] = cell.split('/').map(Number) as [number, number]
      const lines = run.stdout.split('\n').filter((line) => line.startsWith(sampler.padEnd(10) + ' epoch'))
      // One line per epoch run; the best epoch's line carries the mark of a new best.
      expect(lines).toHaveLength(ran)
      expect(lines[best - 1]).toMatch(/ \*$/)
      expect(ran).toBeLessThanOrEqual(ceiling)
      if (ran < ceiling) {
        // Stopped early: exactly `patience` epochs after the best, with no better one since.
        stopped++
        expect(ran - best).toBe(1)
        expect(lines[ran - 1]).toMatch(/no better for 1 epochs: stop/)
      }
    }
    expect(stopped).toBeGreaterThan(0)
  })
})
