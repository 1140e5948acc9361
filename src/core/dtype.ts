/** Voxel data types a `.vmg` file can reproduce, with their on-disk codes and value ranges. */

export type DType = "uint8" | "uint16" | "uint32" | "int8" | "int16" | "int32" | "float32";

export type VoxelArray =
  | Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Float32Array;

interface DTypeInfo {
  code: number;
  bytes: number;
  min: number;
  max: number;
  integer: boolean;
  make: (n: number | ArrayBufferLike) => VoxelArray;
}

export const DTYPES: Record<DType, DTypeInfo> = {
  uint8: { code: 1, bytes: 1, min: 0, max: 255, integer: true, make: (n) => new Uint8Array(n as number) },
  uint16: { code: 2, bytes: 2, min: 0, max: 65535, integer: true, make: (n) => new Uint16Array(n as number) },
  uint32: { code: 3, bytes: 4, min: 0, max: 4294967295, integer: true, make: (n) => new Uint32Array(n as number) },
  int8: { code: 4, bytes: 1, min: -128, max: 127, integer: true, make: (n) => new Int8Array(n as number) },
  int16: { code: 5, bytes: 2, min: -32768, max: 32767, integer: true, make: (n) => new Int16Array(n as number) },
  int32: { code: 6, bytes: 4, min: -2147483648, max: 2147483647, integer: true, make: (n) => new Int32Array(n as number) },
  float32: { code: 7, bytes: 4, min: -3.4028234663852886e38, max: 3.4028234663852886e38, integer: false, make: (n) => new Float32Array(n as number) },
};

export function dtypeFromCode(code: number): DType | undefined {
  return (Object.keys(DTYPES) as DType[]).find((d) => DTYPES[d].code === code);
}

export function isDType(name: string): name is DType {
  return Object.prototype.hasOwnProperty.call(DTYPES, name);
}

/** Typed array of `dtype` with `length` elements, optionally over a (shared) buffer. */
export function allocVoxels(dtype: DType, length: number, buffer?: ArrayBufferLike, byteOffset = 0): VoxelArray {
  if (!buffer) return DTYPES[dtype].make(length);
  switch (dtype) {
    case "uint8": return new Uint8Array(buffer, byteOffset, length);
    case "uint16": return new Uint16Array(buffer, byteOffset, length);
    case "uint32": return new Uint32Array(buffer, byteOffset, length);
    case "int8": return new Int8Array(buffer, byteOffset, length);
    case "int16": return new Int16Array(buffer, byteOffset, length);
    case "int32": return new Int32Array(buffer, byteOffset, length);
    case "float32": return new Float32Array(buffer, byteOffset, length);
  }
}

/** The dtype of a typed array, or undefined for unsupported element types. */
export function dtypeOf(a: ArrayBufferView): DType | undefined {
  if (a instanceof Uint8Array) return "uint8";
  if (a instanceof Uint16Array) return "uint16";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Float32Array) return "float32";
  return undefined;
}
