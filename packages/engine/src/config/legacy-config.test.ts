import { describe, expect, it } from 'vitest';
import { flatSettingsToLayer, isLegacyConfig, legacyConfigToLayer } from './legacy-config.js';

describe('flat training settings', () => {
  it('map onto the experiment config, setting only what is defined', () => {
    expect(flatSettingsToLayer({})).toEqual({});
    expect(
      flatSettingsToLayer({ data: 'd', cacheDir: 'c', variant: 'BL+GN', epochs: 3, fold: 1, lr: 0.1, backend: 'cpu', baseFilters: 8, deepSupervision: false, dataWorkers: 0, skipInvalid: true }),
    ).toEqual({
      training: { fold: 1, epochs: 3, backend: 'cpu', lr: 0.1, skipInvalid: true },
      dataset: { options: { root: 'd', cacheDir: 'c' } },
      network: { name: 'BL+GN', options: { deepSupervision: false, baseFilters: 8 } },
      sampler: { options: { workers: 0 } },
    });
    // A network option alone keeps the network another layer names.
    expect(flatSettingsToLayer({ stages: 4 })).toEqual({ network: { options: { stages: 4 } } });
  });

  it('an old flat config.json becomes the layer of the components those runs used', () => {
    const old = { data: 'd', out: 'run', epochs: 2, augmentation: 'none' as const, loss: { batchDice: true, smooth: 0 }, dataWorkers: 1, note: 'n' };
    expect(isLegacyConfig(old)).toBe(true);
    expect(isLegacyConfig({ training: {}, epochs: 2 })).toBe(false);
    expect(legacyConfigToLayer(old)).toEqual({
      dataset: { name: 'brats2021', options: { root: 'd' } },
      network: { name: 'BL', options: {} },
      training: { epochs: 2 },
      augmentation: [],
      loss: { name: 'deep-supervision', options: { loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } } },
      sampler: { name: 'patch', options: { workers: 1 } },
      note: 'n',
    });
  });
});
