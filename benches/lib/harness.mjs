// The shape of every suite: check each contender's output, time the ones that passed with
// benchmark.js, print a table (ops/s, draws/s, the ratio negsample / contender, plus the
// fastest sample and how many cores' worth of CPU time the process got, to show when other
// processes on the machine disturbed a measurement), and append the figures to a JSON file
// if `--json FILE` was given.
import * as fs from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const Benchmark = require('benchmark')

/** `--quick` (or NEGSAMPLE_BENCH_QUICK=1): short timings and small inputs, for CI smoke runs. */
export const QUICK = process.argv.includes('--quick') || process.env.NEGSAMPLE_BENCH_QUICK === '1'

const jsonIndex = process.argv.indexOf('--json')
const JSON_FILE = jsonIndex > 0 ? process.argv[jsonIndex + 1] : undefined

/** benchmark.js options: time per contender. */
const TIMING = QUICK ? { maxTime: 0.4, minSamples: 3, minTime: 0.05 } : { maxTime: 4, minSamples: 10, minTime: 0.25 }

/** Loads the built package (run `npm run build` first). */
export function negsample() {
  try {
    return require('../../dist/index.js')
  } catch (error) {
    throw new Error(`the package is not built (run \`npm run build\`): ${error.message}`)
  }
}

function format(x, digits = 3) {
  if (!Number.isFinite(x)) return '-'
  if (x >= 1e9) return `${(x / 1e9).toPrecision(digits)} G`
  if (x >= 1e6) return `${(x / 1e6).toPrecision(digits)} M`
  if (x >= 1e3) return `${(x / 1e3).toPrecision(digits)} k`
  return x.toPrecision(digits)
}

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)))
  const line = (r) => '| ' + r.map((v, c) => String(v).padEnd(widths[c])).join(' | ') + ' |'
  return [line(rows[0]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n')
}

/**
 * Runs one workload.
 *
 * @param {object} workload
 * @param {string} workload.title  what is measured
 * @param {string} [workload.note] one line printed under the title
 * @param {Array<{name: string, draws: number, verify?: () => string, run?: () => void, skip?: string}>} workload.contenders
 *   `draws`: draws per call of `run`. `verify` checks the output and returns a summary (or
 *   throws); `run` is one timed operation; `timing` overrides benchmark.js options (for
 *   contenders whose one call takes seconds). The first contender is the reference (negsample).
 */
export function compare({ title, note, contenders }) {
  console.log(`\n### ${title}${QUICK ? ' (quick)' : ''}`)
  if (note) console.log(note)
  const results = []
  const suite = new Benchmark.Suite(title)
  for (const c of contenders) {
    const result = { name: c.name, drawsPerOp: c.draws }
    results.push(result)
    if (c.skip) {
      result.skipped = c.skip
      console.log(`  - ${c.name}: not run: ${c.skip}`)
      continue
    }
    try {
      result.check = c.verify ? c.verify() : 'no check'
      console.log(`  - ${c.name}: output checked: ${result.check}`)
    } catch (error) {
      result.failed = error.message
      console.log(`  - ${c.name}: NOT TIMED, check failed: ${error.message}`)
      continue
    }
    suite.add(c.name, c.run, { ...TIMING, ...(c.timing ?? {}) })
  }
  // CPU time the process got per second of wall time while each contender ran (all threads):
  // about 1 for a single-threaded contender on a quiet machine, less when other processes
  // took the core, up to 2 for two threads on two free cores.
  let mark = { wall: performance.now(), cpu: process.cpuUsage() }
  suite.on('start', () => {
    mark = { wall: performance.now(), cpu: process.cpuUsage() }
  })
  suite.on('cycle', (event) => {
    const bench = event.target
    const result = results.find((r) => r.name === bench.name)
    const cpu = process.cpuUsage(mark.cpu)
    result.coresUsed = (cpu.user + cpu.system) / 1e3 / (performance.now() - mark.wall)
    mark = { wall: performance.now(), cpu: process.cpuUsage() }
    if (bench.error) {
      result.failed = String(bench.error)
      return
    }
    result.opsPerSec = bench.hz
    result.drawsPerSec = bench.hz * result.drawsPerOp
    result.rme = bench.stats.rme
    result.samples = bench.stats.sample.length
    result.meanSeconds = bench.stats.mean
    // The fastest sample: the least disturbed by other processes.
    result.bestDrawsPerSec = result.drawsPerOp / Math.min(...bench.stats.sample)
  })
  suite.run({ async: false })
  const reference = results[0]
  const rows = [['contender', 'ops/s', 'draws/s', '± %', 'time/op', 'best draws/s', 'cores used', 'negsample is']]
  for (const r of results) {
    if (r.drawsPerSec === undefined) {
      rows.push([r.name, '-', '-', '-', '-', '-', '-', r.skipped ? `not run: ${r.skipped}` : `not timed: ${r.failed}`])
      continue
    }
    r.ratio = reference.drawsPerSec / r.drawsPerSec
    const ratio = r === reference ? '(reference)' : `${r.ratio >= 10 ? r.ratio.toFixed(0) : r.ratio.toFixed(2)}x`
    const perOp = r.meanSeconds >= 1e-3 ? `${(r.meanSeconds * 1e3).toPrecision(3)} ms` : `${(r.meanSeconds * 1e6).toPrecision(3)} us`
    rows.push([r.name, format(r.opsPerSec), format(r.drawsPerSec), r.rme.toFixed(1), perOp, format(r.bestDrawsPerSec), r.coresUsed.toFixed(2), ratio])
  }
  console.log('\n' + table(rows))
  if (JSON_FILE) {
    const all = fs.existsSync(JSON_FILE) ? JSON.parse(fs.readFileSync(JSON_FILE, 'utf8')) : []
    all.push({ title, quick: QUICK, results })
    fs.writeFileSync(JSON_FILE, JSON.stringify(all, null, 2))
  }
  return results
}
