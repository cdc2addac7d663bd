import { readFileSync } from 'node:fs';
import { createExperiment } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { augmenterFactories } from './augmentation/index.js';
import { BratsDataset } from './dataset/brats-dataset.js';
import { bratsPlugin } from './plugin.js';

describe('bratsPlugin', () => {
  it('registers the brats2021 dataset and every augmenter; registering twice is harmless', () => {
    const exp = createExperiment({ plugins: [bratsPlugin(), bratsPlugin()] });
    expect(exp.registry('dataset').names()).toEqual(['brats2021']);
    expect(exp.registry('augmenter').names()).toEqual(augmenterFactories.map((f) => f.name).sort());
    expect(exp.get('dataset', 'brats2021').create({ root: '/nowhere' }, exp)).toBeInstanceOf(BratsDataset);
    expect(exp.pluginList()).toEqual([{ name: '@voxseg/plugin-data-brats', version: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version }]);
  });
});
