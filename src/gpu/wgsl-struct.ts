/**
 * A WGSL struct defined once, on the TypeScript side: a table of (field, type) gives both the
 * struct's WGSL declaration (prepended to the shaders that use it) and its byte layout, so the
 * code that fills a uniform or storage buffer cannot drift from what the shader reads.
 *
 * Layout rules (WGSL "alignment and size", which uniform and storage buffers share for these
 * types): scalars align to 4, vec2 to 8, vec3 and vec4 to 16 (a vec3 occupies 12 bytes, so a
 * scalar may follow it in the same 16); the struct aligns to its widest member and its size is
 * rounded up to that alignment, which is also the stride of an array of it. Arrays and nested
 * structs are not supported (no table needs them), so the uniform-only rules for those never apply.
 */
export type WgslScalar = "f32" | "i32" | "u32";
export type WgslType = WgslScalar | `vec${2 | 3 | 4}<${WgslScalar}>`;

export interface WgslField {
  name: string;
  type: WgslType;
  scalar: WgslScalar;
  components: number;
  /** Byte offset inside the struct. */
  offset: number;
}

/** Typed views over one buffer of records, indexed in 4-byte words. */
export interface StructViews {
  buffer: ArrayBuffer;
  f32: Float32Array;
  i32: Int32Array;
  u32: Uint32Array;
}

export function structViews(bytes: number): StructViews {
  const buffer = new ArrayBuffer(bytes);
  return { buffer, f32: new Float32Array(buffer), i32: new Int32Array(buffer), u32: new Uint32Array(buffer) };
}

export class WgslStruct<F extends string = string> {
  readonly fields: Readonly<Record<F, WgslField>>;
  /** Bytes per record: the buffer size of a uniform, the stride of an array. */
  readonly size: number;
  readonly wgsl: string;

  constructor(readonly name: string, table: ReadonlyArray<readonly [F, WgslType]>) {
    const fields = {} as Record<F, WgslField>;
    let end = 0, align = 4;
    for (const [field, type] of table) {
      const m = /^vec([234])<(f32|i32|u32)>$/.exec(type);
      const components = m ? Number(m[1]) : 1;
      const scalar = (m ? m[2] : type) as WgslScalar;
      const a = components === 1 ? 4 : components === 2 ? 8 : 16;
      const offset = roundUp(end, a);
      fields[field] = { name: field, type, scalar, components, offset };
      end = offset + 4 * components;
      align = Math.max(align, a);
    }
    this.fields = fields;
    this.size = roundUp(end, align);
    this.wgsl = `struct ${name} {\n${table.map(([f, t]) => `  ${f}: ${t},\n`).join("")}}\n`;
  }

  /** Views over `count` records (zeroed). */
  alloc(count: number): StructViews {
    return structViews(this.size * count);
  }

  /** Set `field` of record `index`. */
  set(views: StructViews, index: number, field: F, ...values: number[]): void {
    const f = this.fields[field];
    if (values.length !== f.components) throw new Error(`${this.name}.${field} is ${f.type}: ${values.length} values given`);
    const at = (index * this.size + f.offset) / 4;
    views[f.scalar].set(values, at);
  }

  /** One record (a uniform's contents) from a value per field. */
  pack(values: Readonly<Record<F, number | readonly number[]>>): ArrayBuffer {
    const views = this.alloc(1);
    for (const field of Object.keys(this.fields) as F[]) {
      const v: number | readonly number[] = values[field];
      this.set(views, 0, field, ...(typeof v === "number" ? [v] : v));
    }
    return views.buffer;
  }
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
