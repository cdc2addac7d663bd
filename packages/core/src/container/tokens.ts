import type { AugmenterFactory } from '../contracts/augmenter.js';
import type { BlockFactory } from '../contracts/block.js';
import type { CriterionFactory } from '../contracts/criterion.js';
import type { DatasetFactory } from '../contracts/dataset.js';
import type { LossFactory } from '../contracts/loss.js';
import type { MetricFactory } from '../contracts/metric.js';
import type { NetworkBuilder, NetworkPreset } from '../contracts/network.js';
import type { OptimizerFactory } from '../contracts/optimizer.js';
import type { SamplerFactory } from '../contracts/sampler.js';
import type { SchedulerFactory } from '../contracts/scheduler.js';
import type { Registry } from './registry.js';

/**
 * A typed injection token: a unique symbol that remembers, at the type level, what is
 * registered under it (as Angular's `InjectionToken<T>`). tsyringe accepts the symbol.
 */
export interface Token<T> {
  readonly symbol: symbol;
  readonly description: string;
  /** Phantom field carrying T; never set. */
  readonly __type?: T;
}

export function token<T>(description: string): Token<T> {
  return { symbol: Symbol.for(`voxseg:${description}`), description };
}

/** What each extension-point registry holds, by kind. */
export interface RegistryKinds {
  dataset: DatasetFactory<any>;
  augmenter: AugmenterFactory<any>;
  block: BlockFactory<any>;
  loss: LossFactory<any>;
  scheduler: SchedulerFactory<any>;
  metric: MetricFactory<any>;
  network: NetworkBuilder<any>;
  preset: NetworkPreset;
  optimizer: OptimizerFactory<any>;
  sampler: SamplerFactory<any>;
  criterion: CriterionFactory<any>;
}
export type RegistryKind = keyof RegistryKinds;

/** One token per extension point; each resolves to that kind's {@link Registry}. */
export const Tokens = {
  dataset: token<Registry<RegistryKinds['dataset']>>('registry.dataset'),
  augmenter: token<Registry<RegistryKinds['augmenter']>>('registry.augmenter'),
  block: token<Registry<RegistryKinds['block']>>('registry.block'),
  loss: token<Registry<RegistryKinds['loss']>>('registry.loss'),
  scheduler: token<Registry<RegistryKinds['scheduler']>>('registry.scheduler'),
  metric: token<Registry<RegistryKinds['metric']>>('registry.metric'),
  network: token<Registry<RegistryKinds['network']>>('registry.network'),
  preset: token<Registry<RegistryKinds['preset']>>('registry.preset'),
  optimizer: token<Registry<RegistryKinds['optimizer']>>('registry.optimizer'),
  sampler: token<Registry<RegistryKinds['sampler']>>('registry.sampler'),
  criterion: token<Registry<RegistryKinds['criterion']>>('registry.criterion'),
} as const satisfies { [K in RegistryKind]: Token<Registry<RegistryKinds[K]>> };

export const REGISTRY_KINDS = Object.keys(Tokens) as RegistryKind[];
