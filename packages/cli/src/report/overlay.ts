import type { Shape3 } from '@voxseg/core';
import { encodePng } from './png.js';

/** BraTS label colours: NCR red, ED green, ET yellow (the colours BraTS figures commonly use). */
export const LABEL_COLOURS: Record<number, [number, number, number]> = {
  1: [230, 40, 40],
  2: [40, 200, 60],
  4: [250, 220, 30],
};

/** Input of {@link renderCaseOverlay}: image channels [D,H,W] each, and label maps [D,H,W]. */
export interface OverlayInput {
  /** One volume per modality, [D,H,W] each, any intensity scale. */
  channels: { name: string; data: Float32Array }[];
  shape: Shape3;
  /** Label map drawn over every modality (e.g. the prediction). */
  label?: Uint8Array;
  /** Optional second label map (e.g. the ground truth), drawn over the last modality in an extra column. */
  reference?: Uint8Array;
  /** Label opacity, default 0.45. */
  alpha?: number;
}

/**
 * Render a 3x(C[+1]) grid PNG: rows = axial, coronal, sagittal slices through the tumour's
 * centre of mass (the volume's centre when there is no tumour); columns = modalities with the
 * label coloured, plus the reference when given. Voxel (d,h,w) = NIfTI (z,y,x); slices are
 * shown with superior/anterior up.
 */
export function renderCaseOverlay(input: OverlayInput): Buffer {
  const [D, H, W] = input.shape;
  const centre = centreOf(input.label ?? input.reference, input.shape);
  const alpha = input.alpha ?? 0.45;
  const windows = input.channels.map((c) => intensityWindow(c.data));
  const cols: { data: Float32Array; win: [number, number]; label?: Uint8Array }[] = input.channels.map((c, i) => ({
    data: c.data, win: windows[i]!, ...(input.label ? { label: input.label } : {}),
  }));
  if (input.reference && input.channels.length) {
    const last = input.channels.length - 1;
    cols.push({ data: input.channels[last]!.data, win: windows[last]!, label: input.reference });
  }
  // Each view: [rows, cols, index(r, c) -> voxel offset]
  const views: { rows: number; cols: number; at: (r: number, c: number) => number }[] = [
    { rows: H, cols: W, at: (r, c) => (centre[0] * H + (H - 1 - r)) * W + c }, // axial (fixed d)
    { rows: D, cols: W, at: (r, c) => ((D - 1 - r) * H + centre[1]) * W + c }, // coronal (fixed h)
    { rows: D, cols: H, at: (r, c) => ((D - 1 - r) * H + c) * W + centre[2] }, // sagittal (fixed w)
  ];
  const cell = Math.max(H, W, D);
  const scale = cell < 160 ? 2 : 1;
  const gap = 4;
  const width = cols.length * (cell * scale + gap) + gap;
  const height = views.length * (cell * scale + gap) + gap;
  const rgb = new Uint8Array(width * height * 3); // black background
  views.forEach((view, vi) => {
    cols.forEach((col, ci) => {
      const ox = gap + ci * (cell * scale + gap) + Math.floor(((cell - view.cols) * scale) / 2);
      const oy = gap + vi * (cell * scale + gap) + Math.floor(((cell - view.rows) * scale) / 2);
      const [lo, hi] = col.win;
      for (let r = 0; r < view.rows; r++) {
        for (let c = 0; c < view.cols; c++) {
          const idx = view.at(r, c);
          const g = Math.max(0, Math.min(255, Math.round(((col.data[idx]! - lo) / (hi - lo || 1)) * 255)));
          let R = g, G = g, B = g;
          const lab = col.label ? col.label[idx]! : 0;
          const colour = LABEL_COLOURS[lab];
          if (colour) {
            R = Math.round((1 - alpha) * g + alpha * colour[0]);
            G = Math.round((1 - alpha) * g + alpha * colour[1]);
            B = Math.round((1 - alpha) * g + alpha * colour[2]);
          }
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) {
              const p = ((oy + r * scale + sy) * width + (ox + c * scale + sx)) * 3;
              rgb[p] = R; rgb[p + 1] = G; rgb[p + 2] = B;
            }
          }
        }
      }
    });
  });
  return encodePng(rgb, width, height);
}

/** Centre of mass of non-zero labels, rounded; the volume centre when empty. */
export function centreOf(label: Uint8Array | undefined, shape: Shape3): Shape3 {
  const [D, H, W] = shape;
  let n = 0, sd = 0, sh = 0, sw = 0;
  if (label) {
    for (let d = 0, i = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) {
      if (label[i]) { n++; sd += d; sh += h; sw += w; }
    }
  }
  if (n === 0) return [D >> 1, H >> 1, W >> 1];
  return [Math.round(sd / n), Math.round(sh / n), Math.round(sw / n)];
}

/** Display window: 0.5th-99.5th percentile of non-zero voxels (a histogram, not a sort). */
export function intensityWindow(data: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity, n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== 0 && Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; n++; }
  }
  if (n === 0 || lo === hi) return [0, hi > 0 ? hi : 1];
  const bins = 1024;
  const hist = new Uint32Array(bins);
  const k = (bins - 1) / (hi - lo);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== 0 && Number.isFinite(v)) hist[Math.floor((v - lo) * k)]!++;
  }
  const at = (q: number) => {
    let acc = 0;
    const target = q * n;
    for (let b = 0; b < bins; b++) { acc += hist[b]!; if (acc >= target) return lo + b / k; }
    return hi;
  };
  return [at(0.005), at(0.995)];
}
