import type { AugmenterFactory } from '@voxseg/core';
import { da4Factories } from './da4.js';

export * from './draw.js';
export * from './rand-rotate.js';
export * from './rand-scale.js';
export * from './rand-elastic.js';
export * from './rand-gaussian-noise.js';
export * from './rand-gaussian-blur.js';
export * from './rand-brightness-multiplicative.js';
export * from './rand-contrast.js';
export * from './rand-low-resolution.js';
export * from './rand-gamma.js';
export * from './rand-brightness-additive.js';
export * from './rand-mirror.js';
export * from './da4.js';
export * from './augmenter-specs.js';
export { gaussianFilter3d, gaussianKernel } from './filters/gaussian-filter.js';
export { recursiveGaussian3d } from './filters/recursive-gaussian.js';
export { resizeCubic, resizeNearest } from './filters/resize.js';

/** Every augmenter this package registers (the plugin registers each under its `name`). */
export const augmenterFactories: AugmenterFactory<any>[] = [...da4Factories];
