/**
 * The short soak, for `npm test` and CI: scripts/soak.mjs with 40,000
 * sampling calls (the long run, `npm run test:reliability`, makes
 * 1,000,000), in a child process started with `--expose-gc`.
 *
 * It asserts what the script checks: RSS growth within the script's bound
 * after a warm-up, exclusion on sampled outputs, 2,000 concurrent async
 * calls equal to the same calls made synchronously on a same-seed sampler
 * (and all different from one another), and the jobs of a sampler whose
 * JavaScript object was collected while they ran returning the right
 * output (and the object collected once they settle), 200 opens of a saved binary file
 * leaving no mapping of it and no descriptor behind once collected, and 200 training steps and
 * 200 `samplerDataset` batches through negsample/tfjs leaving the tensor count flat, and 100
 * calls split over 2 threads equal to the same calls on 1. Needs the built package (dist/ and
 * native/), which `npm test` builds first.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const root = path.resolve(__dirname, '..')
const built = existsSync(path.join(root, 'dist/index.js'))

interface Report {
  calls: number
  rssBoundMiB: number
  rssBeforeMiB: number
  rssAfterMiB: number
  rssGrowthMiB: number
  concurrentCalls: number
  concurrentMismatches: number
  concurrentDistinctOutputs: number
  droppedSamplerCollected: boolean
  jobsPendingWhenCollected: number
  jobsPendingAfterGc: number
  droppedSamplerJobMismatches: number
  fileOpens: number
  fileMappingsWhileOpen: number
  fileMappingsLeft: number | null
  descriptorsBefore: number | null
  descriptorsAfter: number | null
  fileRssGrowthMiB: number
  tensors:
    | string
    | {
        steps: number
        tensorsAtStep10: number
        tensorsAtEnd: number
        datasetBatches: number
        tensorsBeforeDataset: number
        tensorsAfterDataset: number
        rssGrowthMiB: number
      }
  threadCalls: number
  threadMismatches: number
  threadRssGrowthMiB: number
  failures: string[]
}

describe.skipIf(!built)('soak (short)', () => {
  it('40,000 calls sync and async: bounded RSS, correct concurrent and orphaned async calls, opened files released, tensor count flat, threaded calls', () => {
    let stdout: string
    try {
      stdout = execFileSync(process.execPath, ['--expose-gc', path.join(root, 'scripts/soak.mjs'), '--calls', '40000', '--json'], {
        encoding: 'utf8',
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      })
    } catch (error) {
      // Exit status 1: a check failed; the report is on stdout.
      stdout = (error as { stdout?: string }).stdout ?? ''
      if (!stdout.trim()) throw error
    }
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as Report
    console.log(`soak (short): RSS ${report.rssBeforeMiB} -> ${report.rssAfterMiB} MiB (bound +${report.rssBoundMiB} MiB)`)
    expect(report.failures).toEqual([])
    expect(report.calls).toBe(40_000)
    expect(report.rssGrowthMiB).toBeLessThanOrEqual(report.rssBoundMiB)
    expect(report.concurrentMismatches).toBe(0)
    expect(report.concurrentDistinctOutputs).toBe(report.concurrentCalls)
    expect(report.jobsPendingAfterGc).toBeGreaterThan(0)
    expect(report.droppedSamplerCollected).toBe(true)
    expect(report.droppedSamplerJobMismatches).toBe(0)
    // Opened files: every mapping released once the datasets are collected, no descriptor kept.
    expect(report.fileOpens).toBe(200)
    expect(report.fileRssGrowthMiB).toBeLessThanOrEqual(report.rssBoundMiB)
    if (process.platform === 'linux') {
      expect(report.fileMappingsWhileOpen).toBeGreaterThan(0)
      expect(report.fileMappingsLeft).toBe(0)
      expect(report.descriptorsAfter).toBeLessThanOrEqual(report.descriptorsBefore!)
    }
    // Training through negsample/tfjs (@tensorflow/tfjs is a dev dependency, so it is there):
    // the tensor count stays flat.
    expect(typeof report.tensors).toBe('object')
    const tensors = report.tensors as Exclude<Report['tensors'], string>
    expect(tensors.steps).toBe(200)
    expect(tensors.tensorsAtEnd).toBe(tensors.tensorsAtStep10)
    expect(tensors.datasetBatches).toBe(200)
    expect(tensors.tensorsAfterDataset).toBe(tensors.tensorsBeforeDataset)
    expect(tensors.rssGrowthMiB).toBeLessThanOrEqual(report.rssBoundMiB)
    // Calls split over 2 threads give the 1-thread output, call for call.
    expect(report.threadCalls).toBe(100)
    expect(report.threadMismatches).toBe(0)
    expect(report.threadRssGrowthMiB).toBeLessThanOrEqual(report.rssBoundMiB)
  })
})
