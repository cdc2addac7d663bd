/**
 * The NIfTI-1 datatypes voxseg reads and writes, with their codes and sizes. Other codes
 * (RGB, complex, 64-bit integers, ...) are rejected with an error naming the file.
 */
export type NiftiDatatypeName = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'float32' | 'float64';

/** A typed array of one of the supported datatypes. */
export type NiftiTypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** Constructor of one of the supported typed arrays. */
export interface NiftiTypedArrayConstructor {
  new (length: number): NiftiTypedArray;
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): NiftiTypedArray;
}

/** What voxseg knows about one supported datatype. */
export interface DatatypeInfo {
  name: NiftiDatatypeName;
  code: number;
  bytes: number;
  /** Inclusive value range for integer types (undefined for floats). */
  range?: [number, number];
  array: NiftiTypedArrayConstructor;
  /** DataView getter/setter names, used for big-endian files. */
  get: 'getUint8' | 'getInt8' | 'getInt16' | 'getUint16' | 'getInt32' | 'getFloat32' | 'getFloat64';
}

/** Supported datatypes by name (codes from nifti1.h). */
export const NIFTI_DATATYPES: Readonly<Record<NiftiDatatypeName, DatatypeInfo>> = {
  uint8: { name: 'uint8', code: 2, bytes: 1, range: [0, 255], array: Uint8Array, get: 'getUint8' },
  int16: { name: 'int16', code: 4, bytes: 2, range: [-32768, 32767], array: Int16Array, get: 'getInt16' },
  int32: { name: 'int32', code: 8, bytes: 4, range: [-2147483648, 2147483647], array: Int32Array, get: 'getInt32' },
  float32: { name: 'float32', code: 16, bytes: 4, array: Float32Array, get: 'getFloat32' },
  float64: { name: 'float64', code: 64, bytes: 8, array: Float64Array, get: 'getFloat64' },
  int8: { name: 'int8', code: 256, bytes: 1, range: [-128, 127], array: Int8Array, get: 'getInt8' },
  uint16: { name: 'uint16', code: 512, bytes: 2, range: [0, 65535], array: Uint16Array, get: 'getUint16' },
};

const BY_CODE = new Map(Object.values(NIFTI_DATATYPES).map((d) => [d.code, d]));

/** Names of NIfTI datatype codes voxseg does not support, for error messages. */
const OTHER_CODE_NAMES: Record<number, string> = {
  0: 'none', 1: 'binary', 32: 'complex64', 128: 'rgb24', 768: 'uint32', 1024: 'int64',
  1280: 'uint64', 1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'rgba32',
};

/** The supported datatype with this code, or undefined. */
export function datatypeByCode(code: number): DatatypeInfo | undefined {
  return BY_CODE.get(code);
}

/** `128 (rgb24)`: a datatype code as people read it. */
export function describeDatatypeCode(code: number): string {
  const known = BY_CODE.get(code)?.name ?? OTHER_CODE_NAMES[code];
  return known ? `${code} (${known})` : `${code} (unknown)`;
}

/** Datatype information by name. */
export function datatypeInfo(name: NiftiDatatypeName): DatatypeInfo {
  return NIFTI_DATATYPES[name];
}
