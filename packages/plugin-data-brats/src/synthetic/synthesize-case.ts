import type { Affine, Rng, Shape3 } from '@voxseg/core';
import { ValueNoise3 } from './value-noise.js';

/** The four BraTS modalities a synthetic case has, in channel order. */
export const SYNTHETIC_MODALITIES = ['t1', 't1ce', 't2', 'flair'] as const;
/** One of {@link SYNTHETIC_MODALITIES}. */
export type SyntheticModality = (typeof SYNTHETIC_MODALITIES)[number];

/** What kind of tumour core a case got. */
export type TumourKind = 'rim' | 'no-enhancing' | 'no-necrosis';

/** One synthetic case in memory. */
export interface SyntheticCase {
  /** [D, H, W] = [nz, ny, nx]. */
  shape: Shape3;
  /** BraTS-like affine: diag(-1, -1, 1), 1 mm, origin (0, ny-1, 0). */
  affine: Affine;
  /** int16 images, x fastest; exactly 0 outside the brain (skull-stripped). */
  images: Record<SyntheticModality, Int16Array>;
  /** BraTS labels 0/1/2/4. */
  seg: Uint8Array;
  tumour: { kind: TumourKind; voxels: { edema: number; necrosis: number; enhancing: number } };
}

/** Options of {@link synthesizeCase}. */
export interface SynthesizeOptions {
  /** Probability of a core without enhancing part (all necrosis / NCR). Default 0.15. */
  pNoEnhancing?: number;
  /** Probability of a solid enhancing core without necrosis. Default 0.15. */
  pNoNecrosis?: number;
}

// Tissue classes (internal).
const BG = 0, CSF = 1, GM = 2, WM = 3, ED = 4, NCR = 5, ET = 6;

/**
 * Mean intensity of each class per modality (arbitrary scanner units), chosen for plausible
 * contrasts: t1 WM > GM > CSF; t2 CSF bright; flair CSF dark and edema bright; t1ce the
 * enhancing rim bright and necrosis dark. Tumour classes are kept distinct in at least one
 * modality each so a small network can learn them: edema bright on flair/t2, enhancing bright
 * on t1ce, necrosis dark on t1ce but bright on t2.
 */
const MEANS: Record<SyntheticModality, number[]> = {
  //        BG  CSF   GM   WM   ED   NCR  ET
  t1:   [0, 250, 650, 850, 600, 350, 700],
  t1ce: [0, 230, 620, 800, 580, 260, 1500],
  t2:   [0, 1600, 650, 450, 1250, 1450, 900],
  flair: [0, 200, 700, 550, 1250, 800, 950],
};

/**
 * Synthesize one BraTS-like case: a brain-shaped mask (ellipsoid with a smoothly perturbed
 * surface and an interhemispheric fissure), white matter, a cortical grey-matter ribbon with
 * sulcal CSF, lateral ventricles, and a tumour (necrotic core 1, enhancing rim 4, edema 2;
 * sometimes no enhancing part, sometimes no necrosis) confined to the brain; then per-modality
 * contrasts, texture, a smooth multiplicative bias field and Rician noise, as int16.
 *
 * Deterministic given the rng state. Everything scales with the shape, so small shapes
 * (64^3, 96x96x64) give the same anatomy at lower resolution.
 *
 * @param shapeXYZ [nx, ny, nz] in NIfTI order (default 240x240x155 as BraTS)
 */
export function synthesizeCase(rng: Rng, shapeXYZ: [number, number, number] = [240, 240, 155], options: SynthesizeOptions = {}): SyntheticCase {
  const [X, Y, Z] = shapeXYZ;
  if (![X, Y, Z].every((s) => Number.isInteger(s) && s >= 8 && s <= 1024)) {
    throw new RangeError(`synthesizeCase: shape must be 3 integers in [8, 1024], got ${shapeXYZ.join(',')}`);
  }
  const n = X * Y * Z;
  // Brain ellipsoid (in voxels), with some variation between cases.
  const cx = (X - 1) / 2 + rng.uniform(-0.02, 0.02) * X;
  const cy = (Y - 1) / 2 + rng.uniform(-0.03, 0.03) * Y;
  const cz = (Z - 1) / 2 + rng.uniform(-0.03, 0.03) * Z;
  const ax = X * rng.uniform(0.29, 0.33), ay = Y * rng.uniform(0.36, 0.4), az = Z * rng.uniform(0.36, 0.41);
  const surface = new ValueNoise3(rng, 5);
  const gyri = new ValueNoise3(rng, 22);
  const texture = new ValueNoise3(rng, 24);
  const tumourShape = new ValueNoise3(rng, 6);

  // Tumour in normalised brain coordinates (the unit ball is the brain).
  const side = rng.bool() ? 1 : -1;
  const t = [side * rng.uniform(0.2, 0.45), rng.uniform(-0.4, 0.4), rng.uniform(-0.3, 0.35)];
  const minAxis = Math.min(ax, ay, az);
  const core = rng.uniform(0.17, 0.3);
  const edema = core * rng.uniform(1.4, 1.9);
  const rim = Math.max(core * rng.uniform(0.28, 0.42), 1.6 / minAxis);
  const u = rng.next();
  const pNoEt = options.pNoEnhancing ?? 0.15, pNoNcr = options.pNoNecrosis ?? 0.15;
  const kind: TumourKind = u < pNoEt ? 'no-enhancing' : u < pNoEt + pNoNcr ? 'no-necrosis' : 'rim';
  const fissureHalf = Math.max(0.6, X / 240);

  const cls = new Uint8Array(n);
  const tex = new Float32Array(n);
  const counts = { edema: 0, necrosis: 0, enhancing: 0 };
  let i = 0;
  for (let z = 0; z < Z; z++) {
    const nz = (z - cz) / az;
    const wz = z / (Z - 1);
    for (let y = 0; y < Y; y++) {
      const ny = (y - cy) / ay;
      const wy = y / (Y - 1);
      for (let x = 0; x < X; x++, i++) {
        const nx = (x - cx) / ax;
        const r2 = nx * nx + ny * ny + nz * nz;
        if (r2 > 1.44) continue; // far outside even a bulged surface
        const wx = x / (X - 1);
        const rho = Math.sqrt(r2) / (1 + 0.08 * surface.sample(wx, wy, wz));
        if (rho >= 1) continue;
        // Interhemispheric fissure: a thin CSF gap in the upper half.
        const fissure = Math.abs(x - cx) < fissureHalf && nz > 0.15 - 0.2 * ny * ny;
        let c: number;
        if (fissure && rho > 0.35) {
          c = CSF;
        } else {
          const gy = gyri.sample(wx, wy, wz);
          if (rho > 0.96) c = CSF;
          else if (rho > 0.8 + 0.1 * gy) c = gy > 0.35 && rho > 0.88 ? CSF : GM;
          else c = WM;
          // Lateral ventricles: two elongated ellipsoids either side of the midline.
          const vx = (Math.abs(nx) - 0.14) / 0.09, vy = (ny + 0.02) / 0.42, vz = (nz - 0.08) / 0.16;
          if (vx * vx + vy * vy + vz * vz < 1) c = CSF;
        }
        // Tumour: irregular nested shells around t (edema, core, rim), confined to the brain.
        const dx = nx - t[0]!, dy = ny - t[1]!, dz = nz - t[2]!;
        const d2 = dx * dx + dy * dy + dz * dz;
        if (d2 < edema * edema * 1.7) {
          const d = Math.sqrt(d2) / (1 + 0.22 * tumourShape.sample(wx, wy, wz));
          if (d < core) {
            if (kind === 'no-enhancing') c = NCR;
            else if (kind === 'no-necrosis') c = ET;
            else c = d > core - rim ? ET : NCR;
          } else if (d < edema) {
            c = ED;
          }
        }
        cls[i] = c;
        tex[i] = texture.sample(wx, wy, wz);
        if (c === ED) counts.edema++;
        else if (c === NCR) counts.necrosis++;
        else if (c === ET) counts.enhancing++;
      }
    }
  }

  const seg = new Uint8Array(n);
  const LABEL = [0, 0, 0, 0, 2, 1, 4];
  for (let k = 0; k < n; k++) seg[k] = LABEL[cls[k]!]!;

  // A table of standard normals indexed by a fast xorshift stream (both seeded from rng):
  // Rician noise needs two normals per voxel per modality, too many for Box-Muller here.
  const normals = new Float32Array(1 << 16);
  for (let k = 0; k < normals.length; k++) normals[k] = rng.normal();
  let state = (rng.nextUint32() | 1) >>> 0;

  const images = {} as Record<SyntheticModality, Int16Array>;
  for (const m of SYNTHETIC_MODALITIES) {
    const means = MEANS[m].map((v) => v * rng.uniform(0.85, 1.2)); // scanner gain per case
    const sigma = 0.035 * means[WM]!;
    const texAmp = rng.uniform(0.03, 0.06);
    // Separable smooth bias field exp(bx(x) + by(y) + bz(z)), linear + quadratic per axis.
    const bias = (len: number) => {
      const a = rng.uniform(-0.12, 0.12), b = rng.uniform(-0.1, 0.1);
      return Float32Array.from({ length: len }, (_, k) => {
        const s = (2 * k) / Math.max(1, len - 1) - 1;
        return Math.exp(a * s + b * s * s);
      });
    };
    const bx = bias(X), by = bias(Y), bz = bias(Z);
    const out = new Int16Array(n);
    let k = 0;
    for (let z = 0; z < Z; z++) {
      for (let y = 0; y < Y; y++) {
        const byz = by[y]! * bz[z]!;
        for (let x = 0; x < X; x++, k++) {
          const c = cls[k]!;
          if (c === BG) continue;
          const s = means[c]! * (1 + texAmp * tex[k]!) * bx[x]! * byz;
          state ^= state << 13; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
          const n1 = normals[state & 0xffff]!, n2 = normals[state >>> 16]!;
          const re = s + sigma * n1, im = sigma * n2;
          const v = Math.round(Math.sqrt(re * re + im * im));
          out[k] = v < 1 ? 1 : v > 32767 ? 32767 : v; // >= 1: the brain stays non-zero
        }
      }
    }
    images[m] = out;
  }
  const affine: Affine = [[-1, 0, 0, 0], [0, -1, 0, Y - 1], [0, 0, 1, 0], [0, 0, 0, 1]];
  return { shape: [Z, Y, X], affine, images, seg, tumour: { kind, voxels: counts } };
}
