import type * as tfl from '@tensorflow/tfjs-layers';
import { countTrainableParams } from './count-params.js';

/** One row of a model summary. */
export interface LayerRow {
  name: string;
  /** tfjs class name, e.g. `Conv3D`, `GroupNormalization`. */
  type: string;
  /** Output shape without the batch axis, e.g. `[64, 64, 64, 32]`. */
  outputShape: number[];
  /** Trainable parameters of the layer. */
  parameters: number;
}

/** A network's layer table, trainable parameter count and output shapes. */
export interface ModelSummary {
  layers: LayerRow[];
  /** Trainable parameters (BatchNorm running statistics excluded). */
  parameters: number;
  /** Output shapes `[D, H, W, C]`, highest resolution first. */
  outputs: number[][];
}

function withoutBatch(shape: tfl.Shape | tfl.Shape[]): number[] {
  const s = (Array.isArray(shape[0]) ? shape[0] : shape) as tfl.Shape;
  return s.slice(1).map((v) => v ?? -1);
}

/** Summarise a model (no data is run through it). */
export function summarizeModel(model: tfl.LayersModel): ModelSummary {
  return {
    layers: model.layers.map((l) => ({
      name: l.name,
      type: l.getClassName(),
      outputShape: withoutBatch(l.outputShape),
      parameters: countTrainableParams(l),
    })),
    parameters: countTrainableParams(model),
    outputs: model.outputs.map((o) => o.shape.slice(1).map((v) => v ?? -1)),
  };
}

/** The layer table as aligned text lines, with a total line. */
export function formatSummary(summary: ModelSummary): string[] {
  const rows = [
    ['layer', 'type', 'output shape', 'parameters'],
    ...summary.layers.map((r) => [r.name, r.type, `[${r.outputShape.join(', ')}]`, r.parameters.toLocaleString('en-US')]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    line(rows[0]!),
    rule,
    ...rows.slice(1).map(line),
    rule,
    `trainable parameters: ${summary.parameters.toLocaleString('en-US')}`,
    `outputs: ${summary.outputs.map((o) => `[${o.join(', ')}]`).join(', ')}`,
  ];
}
