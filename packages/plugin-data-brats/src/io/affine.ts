import type { Affine, Shape3 } from '@voxseg/core';
import type { NiftiHeader } from './nifti-header.js';

/**
 * Voxel-to-world affines from a NIfTI-1 header, following nibabel's `get_best_affine`:
 * the sform when `sform_code > 0`, else the qform when `qform_code > 0`, else the
 * pixdim-based "base" affine (x flipped, centred on the volume) that nibabel falls back to.
 * Matrices are 4x4 row-major in NIfTI (i=x, j=y, k=z) voxel order.
 */
export function bestAffine(h: NiftiHeader): Affine {
  if (h.sform_code > 0) return sformAffine(h);
  if (h.qform_code > 0) return qformAffine(h);
  return baseAffine(h);
}

/** The sform rows as a 4x4 matrix (whatever `sform_code` says). */
export function sformAffine(h: NiftiHeader): Affine {
  return [[...h.srow_x], [...h.srow_y], [...h.srow_z], [0, 0, 0, 1]];
}

/**
 * The qform: rotation from the quaternion (b, c, d; a = sqrt(1 - b^2 - c^2 - d^2)), scaled by
 * pixdim[1..3] with the z column times qfac = sign(pixdim[0]) (0 counts as 1, as nibabel's
 * header check fixes it), plus the qoffset translation.
 */
export function qformAffine(h: NiftiHeader): Affine {
  const b = h.quatern_b, c = h.quatern_c, d = h.quatern_d;
  const w2 = 1 - (b * b + c * c + d * d);
  // Rounding in the float32 header can make w2 slightly negative: treat it as 0 (nibabel does).
  const a = w2 > 0 ? Math.sqrt(w2) : 0;
  const r = quaternionToMatrix(a, b, c, d);
  const qfac = h.pixdim[0]! < 0 ? -1 : 1;
  const zooms = [h.pixdim[1]!, h.pixdim[2]!, h.pixdim[3]! * qfac];
  const offset = [h.qoffset_x, h.qoffset_y, h.qoffset_z];
  return [0, 1, 2].map((i) => [r[i]![0]! * zooms[0]!, r[i]![1]! * zooms[1]!, r[i]![2]! * zooms[2]!, offset[i]!]).concat([[0, 0, 0, 1]]);
}

/** nibabel's `shape_zoom_affine(shape, zooms, x_flip=True)`: used when no transform is coded. */
export function baseAffine(h: NiftiHeader): Affine {
  const shape = [h.dim[1] ?? 1, h.dim[2] ?? 1, h.dim[3] ?? 1];
  const zooms = [-(h.pixdim[1] ?? 1), h.pixdim[2] ?? 1, h.pixdim[3] ?? 1];
  const m: Affine = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
  for (let i = 0; i < 3; i++) {
    m[i]![i] = zooms[i]!;
    m[i]![3] = -((shape[i]! - 1) / 2) * zooms[i]!;
  }
  return m;
}

/** Rotation matrix of the unit quaternion (w, x, y, z), as nibabel's `quat2mat`. */
function quaternionToMatrix(w: number, x: number, y: number, z: number): number[][] {
  const n = w * w + x * x + y * y + z * z;
  if (n < 1e-12) return [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  const s = 2 / n;
  const X = x * s, Y = y * s, Z = z * s;
  const wX = w * X, wY = w * Y, wZ = w * Z;
  const xX = x * X, xY = x * Y, xZ = x * Z;
  const yY = y * Y, yZ = y * Z, zZ = z * Z;
  return [
    [1 - (yY + zZ), xY - wZ, xZ + wY],
    [xY + wZ, 1 - (xX + zZ), yZ - wX],
    [xZ - wY, yZ + wX, 1 - (xX + yY)],
  ];
}

/** The qform parameters that encode an affine whose 3x3 part is a rotation times a diagonal scaling. */
export interface QformParams {
  quatern_b: number;
  quatern_c: number;
  quatern_d: number;
  qoffset: [number, number, number];
  /** pixdim[1..3]: the column norms. */
  zooms: [number, number, number];
  /** pixdim[0]: -1 when the affine is left-handed (negative determinant). */
  qfac: 1 | -1;
}

/**
 * The qform parameters for an affine, as nifti1_io's `nifti_mat44_to_quatern` computes them
 * (columns normalised, z column negated when the determinant is negative, quaternion with a
 * non-negative real part). Shearing is not representable in a qform and is ignored.
 */
export function affineToQform(affine: Affine): QformParams {
  const col = (j: number) => [affine[0]![j]!, affine[1]![j]!, affine[2]![j]!];
  const cols = [col(0), col(1), col(2)];
  const zooms = cols.map((c) => Math.hypot(c[0]!, c[1]!, c[2]!)) as [number, number, number];
  const unit = cols.map((c, j) => (zooms[j]! > 0 ? c.map((v) => v / zooms[j]!) : [0, 1, 2].map((i) => (i === j ? 1 : 0))));
  for (let j = 0; j < 3; j++) if (!(zooms[j]! > 0)) zooms[j] = 1;
  // r[i][j] = unit[j][i]
  const r = (i: number, j: number) => unit[j]![i]!;
  const det =
    r(0, 0) * (r(1, 1) * r(2, 2) - r(1, 2) * r(2, 1)) -
    r(0, 1) * (r(1, 0) * r(2, 2) - r(1, 2) * r(2, 0)) +
    r(0, 2) * (r(1, 0) * r(2, 1) - r(1, 1) * r(2, 0));
  const qfac: 1 | -1 = det > 0 ? 1 : -1;
  if (qfac < 0) unit[2] = unit[2]!.map((v) => -v);
  const [r11, r12, r13, r21, r22, r23, r31, r32, r33] = [r(0, 0), r(0, 1), r(0, 2), r(1, 0), r(1, 1), r(1, 2), r(2, 0), r(2, 1), r(2, 2)];
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = (0.25 * (r12 + r21)) / b; d = (0.25 * (r13 + r31)) / b; a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = (0.25 * (r12 + r21)) / c; d = (0.25 * (r23 + r32)) / c; a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd); b = (0.25 * (r13 + r31)) / d; c = (0.25 * (r23 + r32)) / d; a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return {
    quatern_b: b, quatern_c: c, quatern_d: d,
    qoffset: [affine[0]![3]!, affine[1]![3]!, affine[2]![3]!],
    zooms, qfac,
  };
}

/** Voxel spacing in mm, [D, H, W] = [pixdim[3], pixdim[2], pixdim[1]] (absolute values). */
export function spacingFromHeader(h: NiftiHeader): Shape3 {
  return [Math.abs(h.pixdim[3] ?? 1) || 1, Math.abs(h.pixdim[2] ?? 1) || 1, Math.abs(h.pixdim[1] ?? 1) || 1];
}

/** Largest absolute element-wise difference between two affines. */
export function affineDistance(a: Affine, b: Affine): number {
  let m = 0;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) m = Math.max(m, Math.abs((a[i]?.[j] ?? 0) - (b[i]?.[j] ?? 0)));
  return m;
}
