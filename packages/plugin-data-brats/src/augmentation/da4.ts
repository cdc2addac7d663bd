import type { Augmenter, AugmenterFactory } from '@voxseg/core';
import { RandBrightnessAdditive, randBrightnessAdditiveFactory, type RandBrightnessAdditiveOptions } from './rand-brightness-additive.js';
import { RandBrightnessMultiplicative, randBrightnessMultiplicativeFactory, type RandBrightnessMultiplicativeOptions } from './rand-brightness-multiplicative.js';
import { RandContrast, randContrastFactory, type RandContrastOptions } from './rand-contrast.js';
import { RandElastic, randElasticFactory, type RandElasticOptions } from './rand-elastic.js';
import { RAND_GAMMA_INVERTED_DEFAULTS, RandGamma, randGammaFactory, randGammaInvertedFactory, type RandGammaOptions } from './rand-gamma.js';
import { RandGaussianBlur, randGaussianBlurFactory, type RandGaussianBlurOptions } from './rand-gaussian-blur.js';
import { RandGaussianNoise, randGaussianNoiseFactory, type RandGaussianNoiseOptions } from './rand-gaussian-noise.js';
import { RandLowResolution, randLowResolutionFactory, type RandLowResolutionOptions } from './rand-low-resolution.js';
import { RandMirror, randMirrorFactory, type RandMirrorOptions } from './rand-mirror.js';
import { RandRotate, randRotateFactory, type RandRotateOptions } from './rand-rotate.js';
import { RandScale, randScaleFactory, type RandScaleOptions } from './rand-scale.js';

/**
 * The DA4 pipeline as registry entries, in docs/method.md's order (nnU-Net
 * `get_insaneDA_augmentation2` with the `nnUNetTrainerV2BraTSRegions_DA4_BN` parameters).
 * A config can list these names to rebuild the preset or a variant of it.
 */
export const DA4_ORDER = [
  'RandRotate', // 1. spatial: rotation
  'RandScale', //    spatial: scaling
  'RandElastic', //  spatial: elastic deformation
  'RandGaussianNoise', // 2.
  'RandGaussianBlur', // 3.
  'RandBrightnessMultiplicative', // 4.
  'RandContrast', // 5.
  'RandLowResolution', // 6.
  'RandGammaInverted', // 7.
  'RandBrightnessAdditive', // 8.
  'RandGamma', // 9.
  'RandMirror', // 10.
] as const;

/** Per-augmenter option overrides for {@link da4Pipeline}, keyed by augmenter name. */
export interface Da4Options {
  /** Options for `RandRotate` (merged over its defaults). */
  RandRotate?: RandRotateOptions;
  /** Options for `RandScale` (merged over its defaults). */
  RandScale?: RandScaleOptions;
  /** Options for `RandElastic` (merged over its defaults). */
  RandElastic?: RandElasticOptions;
  /** Options for `RandGaussianNoise` (merged over its defaults). */
  RandGaussianNoise?: RandGaussianNoiseOptions;
  /** Options for `RandGaussianBlur` (merged over its defaults). */
  RandGaussianBlur?: RandGaussianBlurOptions;
  /** Options for `RandBrightnessMultiplicative` (merged over its defaults). */
  RandBrightnessMultiplicative?: RandBrightnessMultiplicativeOptions;
  /** Options for `RandContrast` (merged over its defaults). */
  RandContrast?: RandContrastOptions;
  /** Options for `RandLowResolution` (merged over its defaults). */
  RandLowResolution?: RandLowResolutionOptions;
  /** Options for `RandGammaInverted` (merged over its defaults). */
  RandGammaInverted?: RandGammaOptions;
  /** Options for `RandBrightnessAdditive` (merged over its defaults). */
  RandBrightnessAdditive?: RandBrightnessAdditiveOptions;
  /** Options for `RandGamma` (merged over its defaults). */
  RandGamma?: RandGammaOptions;
  /** Options for `RandMirror` (merged over its defaults). */
  RandMirror?: RandMirrorOptions;
  /** Override the per-sample probability `p` of every augmenter that has one (e.g. 1 in benchmarks). */
  p?: number;
}

/**
 * The winners' DA4 augmentation pipeline: fresh augmenters with docs/method.md's parameters,
 * in order. Pass overrides per augmenter name, or `p` to force every transform's per-sample
 * probability (RandMirror has only per-axis probabilities and is unaffected).
 */
export function da4Pipeline(options: Da4Options = {}): Augmenter[] {
  const p = options.p === undefined ? {} : { p: options.p };
  return [
    new RandRotate({ ...p, ...options.RandRotate }),
    new RandScale({ ...p, ...options.RandScale }),
    new RandElastic({ ...p, ...options.RandElastic }),
    new RandGaussianNoise({ ...p, ...options.RandGaussianNoise }),
    new RandGaussianBlur({ ...p, ...options.RandGaussianBlur }),
    new RandBrightnessMultiplicative({ ...p, ...options.RandBrightnessMultiplicative }),
    new RandContrast({ ...p, ...options.RandContrast }),
    new RandLowResolution({ ...p, ...options.RandLowResolution }),
    new RandGamma({ ...RAND_GAMMA_INVERTED_DEFAULTS, ...p, ...options.RandGammaInverted }),
    new RandBrightnessAdditive({ ...p, ...options.RandBrightnessAdditive }),
    new RandGamma({ ...p, ...options.RandGamma }),
    new RandMirror({ ...options.RandMirror }),
  ];
}

/** Every augmenter factory of this package, in DA4 order (registered by the plugin). */
export const da4Factories: AugmenterFactory<any>[] = [
  randRotateFactory,
  randScaleFactory,
  randElasticFactory,
  randGaussianNoiseFactory,
  randGaussianBlurFactory,
  randBrightnessMultiplicativeFactory,
  randContrastFactory,
  randLowResolutionFactory,
  randGammaInvertedFactory,
  randBrightnessAdditiveFactory,
  randGammaFactory,
  randMirrorFactory,
];
