import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type CaseData, type Dataset, type SlidingWindowProgress, pasteIntoGrid, slidingWindowInference } from '@voxseg/core';
import { prepareForInference } from '@voxseg/plugin-unet';

/** One model of an ensemble, with the patch edge it was trained on (its sliding window). */
export interface EnsembleMember {
  model: tfl.LayersModel;
  patch: number;
}

/** Options of {@link predictCase}. */
export interface PredictCaseOptions {
  /** Window step as a fraction of the patch. Default 0.5. */
  step?: number;
  /** 8-way mirroring test-time augmentation. Default false. */
  tta?: boolean;
  /**
   * Options of the dataset's post-processing (`Dataset.postprocess`, e.g. BraTS
   * `{ minVoxels: 200 }`: smaller ET becomes necrosis), or false to skip it. Default `{}`.
   */
  postprocess?: Record<string, unknown> | false;
  /** Region threshold. Default 0.5. */
  threshold?: number;
  /** Windows per network call. Default 1. */
  windowBatchSize?: number;
  /**
   * Run each model through plugin-unet's `prepareForInference` first (BatchNorm folded into the
   * convolutions, fused native kernels, only the full-resolution output computed): the same
   * probabilities within float rounding, in less time. Default true; false runs the models
   * exactly as trained.
   */
  prepare?: boolean;
  /** Progress of each model's sliding window. */
  onProgress?: (model: number, p: SlidingWindowProgress) => void;
}

/** A case's prediction: labels in the original grid, and the ensemble's cropped probabilities. */
export interface CasePrediction {
  /** Labels (the dataset's values, e.g. BraTS 0/1/2/4) in the original [D,H,W] grid of the case's images. */
  labels: Uint8Array;
  /** Labels in the cropped grid (the case's loaded shape). */
  croppedLabels: Uint8Array;
  /** Mean probabilities over the models, [d,h,w,K] in the cropped grid. */
  probabilities: Float32Array;
  /** Whether the dataset's post-processing changed the labels. */
  postprocessed: boolean;
}

/**
 * Predict one loaded case with one model or an ensemble: sliding window per model, each with
 * its own training patch (sigmoid probabilities, Gaussian-weighted), probabilities averaged
 * over models, decoded to labels by the dataset's target encoding (BraTS: WT -> 2, TC -> 1,
 * ET -> 4), the dataset's post-processing, pasted back into the original grid.
 * @param dataset the dataset the case comes from: its `targets.decode` and `postprocess`
 */
export async function predictCase(models: EnsembleMember[], c: CaseData, dataset: Pick<Dataset, 'targets' | 'postprocess'>, options: PredictCaseOptions = {}): Promise<CasePrediction> {
  if (models.length === 0) throw new Error('predictCase: no models');
  const [d, h, w] = c.shape;
  let mean: Float32Array | undefined;
  for (let m = 0; m < models.length; m++) {
    const { model, patch } = models[m]!;
    // Prepared per call, not cached: a model being trained (end-of-training validation)
    // changes its weights between calls. Costs a weight copy, small next to the windows.
    const net = (options.prepare ?? true) ? await prepareForInference(model) : model;
    const predictor = (x: tf.Tensor5D) => net.predict(x) as tf.Tensor | tf.Tensor[];
    let out;
    try {
      out = await slidingWindowInference(c.image, c.shape, predictor, {
        patchSize: patch,
        stepFraction: options.step ?? 0.5,
        mirror: options.tta ?? false,
        windowBatchSize: options.windowBatchSize ?? 1,
        ...(options.onProgress ? { onProgress: (p: SlidingWindowProgress) => options.onProgress!(m, p) } : {}),
      });
    } finally {
      if (net !== model) net.dispose();
    }
    if (!mean) mean = out.data;
    else for (let i = 0; i < mean.length; i++) mean[i]! += out.data[i]!;
  }
  if (models.length > 1) for (let i = 0; i < mean!.length; i++) mean![i]! /= models.length;
  const croppedLabels = dataset.targets.decode(mean!, [d, h, w], options.threshold ?? 0.5);
  const post = options.postprocess ?? {};
  const postprocessed = post !== false && dataset.postprocess ? dataset.postprocess(croppedLabels, [d, h, w], post) : false;
  const labels = pasteIntoGrid(croppedLabels, c.meta.cropBox, c.meta.originalShape, 1, 0);
  return { labels, croppedLabels, probabilities: mean!, postprocessed };
}
