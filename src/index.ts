/**
 * negsample: negative sampling for recommenders and embedding models, in Rust, for Node.js.
 *
 * - {@link Interactions}: the training positives as a CSR matrix.
 * - {@link Sampler}: negatives that are never a positive of their user, drawn from a uniform,
 *   popularity^alpha or custom proposal restricted exactly to the user's non-positives;
 *   pairwise and pointwise batches; shuffled epochs; seeded and deterministic.
 *
 * Outputs are `Int32Array` ids and `Float32Array` labels / log-probabilities: what
 * `tf.tensor`, `tf.gather` and embedding layers take.
 *
 * @packageDocumentation
 */
export { Interactions } from './interactions'
export type { CooOptions, CsrOptions } from './interactions'
export { Sampler } from './sampler'
export type {
  BatchOptions,
  EpochOptions,
  KernelName,
  PairwiseBatch,
  PointwiseBatch,
  ProposalName,
  SamplerOptions,
} from './sampler'
export { evaluate } from './evaluate'
export type { EvaluateOptions, Evaluation, HeldOutPairs, MeanMetrics } from './evaluate'
export { epochAsync } from './prefetch'
export type { AsyncEpoch, AsyncEpochOptions, BatchSource, EpochStats } from './prefetch'
export type { EpochShape } from './epoch'
export {
  Dataset,
  IdMap,
  loadAdjacency,
  loadAdjacencyAsync,
  loadDelimited,
  loadDelimitedAsync,
  loadMovieLens,
  loadMovieLensAsync,
  openDataset,
  synthetic,
  syntheticAsync,
  writeAdjacency,
} from './io'
export type {
  AdjacencyOptions,
  DelimitedOptions,
  LoadOptions,
  MovieLensOptions,
  OpenOptions,
  ProgressCallback,
  SaveOptions,
  StoredProposal,
  SyntheticOptions,
} from './io'
export { Shard, shard } from './shard'
export type { ShardEpochOptions, ShardOptions } from './shard'
export {
  dotProductPath,
  HardNegatives,
  hardNegatives,
  hardNegativesAsync,
  hardNegativesInto,
} from './hard'
export type {
  HardBatchOptions,
  HardEpochOptions,
  HardNegativesOptions,
  HardNegativesResult,
  HardNegativesSamplerOptions,
  HardOptions,
  HardPairwiseBatch,
  HardPointwiseBatch,
  HardStrategy,
} from './hard'
export {
  accidentalHits,
  accidentalHitsAsync,
  accidentalHitsInto,
  inBatchHits,
  inBatchHitsAsync,
  inBatchHitsInto,
  sampledSoftmax,
  sampledSoftmaxAsync,
} from './sampled-softmax'
export type { AccidentalHitsOptions, SampledSoftmaxOptions, SampledSoftmaxResult } from './sampled-softmax'
