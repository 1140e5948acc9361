/**
 * The project's one error model. Every typed error is a `VmgError`: a class per kind with a stable
 * `tag` (e.g. "format/truncated", "io/unsupported-dtype") and structured fields as own properties
 * (`file`/`source`, `problem`, `status`, `dtype`, …), so callers branch on tags and fields instead of
 * parsing messages. Structured clone (postMessage) keeps neither class nor fields of an Error, so
 * errors cross worker boundaries as `WireError` (`toWire`) and are rebuilt as the same class on the
 * other side (`fromWire`). Browser- and Node-safe.
 */

/** A field value that survives structured clone and JSON. */
export type FieldValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

export interface WireError {
  vmgWire: 1;
  /** Absent for errors that are not VmgErrors (TypeError, AbortError, …). */
  tag?: string;
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, FieldValue>;
  cause?: WireError;
}

/** Own properties that are Error machinery, not fields. */
const NOT_FIELDS = new Set(["name", "message", "stack", "tag", "cause"]);

export class VmgError extends Error {
  /** The kind's stable tag; subclasses override it. */
  static readonly tag: string = "vmg";
  readonly tag: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.tag = (new.target as typeof VmgError).tag;
  }

  /** The structured fields: own properties with plain values. */
  fields(): Record<string, FieldValue> {
    const out: Record<string, FieldValue> = {};
    for (const [k, v] of Object.entries(this)) if (!NOT_FIELDS.has(k) && isFieldValue(v)) out[k] = v;
    return out;
  }
}

function isFieldValue(v: unknown): v is FieldValue {
  const plain = (x: unknown) => x === null || x === undefined || ["string", "number", "boolean"].includes(typeof x);
  return plain(v) || (Array.isArray(v) && v.every((x) => x !== null && x !== undefined && plain(x)));
}

type ErrorClass = { readonly tag: string; prototype: VmgError };
const classes = new Map<string, ErrorClass>();

/** Make classes rebuildable by `fromWire` (each module of error classes registers its own). */
export function registerErrorClasses(...list: ErrorClass[]): void {
  for (const c of list) {
    const known = classes.get(c.tag);
    if (known && known !== c) throw new Error(`error tag ${c.tag} is registered twice`);
    classes.set(c.tag, c);
  }
}
registerErrorClasses(VmgError);

/**
 * Whether `e` is a VmgError, and (given `tag`) of that kind or a subclass of it:
 * `isVmgError(e, "io/read")` holds for every read error, `UnsupportedDTypeError` included, and
 * `isVmgError(e, "format")` for every "format/…" tag, even one whose class this realm lacks.
 */
export function isVmgError(e: unknown, tag?: string): e is VmgError {
  if (!(e instanceof VmgError)) return false;
  if (tag === undefined || e.tag === tag || e.tag.startsWith(`${tag}/`)) return true;
  for (let p = Object.getPrototypeOf(e); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    if ((p.constructor as ErrorClass).tag === tag) return true;
  }
  return false;
}

/** A plain-data copy of any thrown value, for postMessage. */
export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { vmgWire: 1, name: "Error", message: String(e), fields: {} };
  const w: WireError = { vmgWire: 1, name: e.name, message: e.message, fields: isVmgError(e) ? e.fields() : {} };
  if (isVmgError(e)) w.tag = e.tag;
  if (e.stack !== undefined) w.stack = e.stack;
  if (e.cause !== undefined) w.cause = toWire(e.cause);
  return w;
}

export function isWireError(x: unknown): x is WireError {
  return typeof x === "object" && x !== null && (x as WireError).vmgWire === 1;
}

const BUILTIN: Record<string, ErrorConstructor> = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/**
 * The error `toWire` described, as its own class: a registered VmgError subclass (an unknown tag
 * gives a VmgError carrying that tag), an AbortError as a DOMException, built-in errors as theirs.
 */
export function fromWire(w: WireError): Error {
  let e: Error;
  if (w.tag !== undefined) {
    const c = classes.get(w.tag) ?? VmgError;
    e = Object.create(c.prototype) as VmgError;
    Object.defineProperty(e, "message", { value: w.message, writable: true, configurable: true });
    Object.assign(e, w.fields, { name: w.name, tag: w.tag });
  } else if (w.name === "AbortError" || w.name === "TimeoutError") {
    e = new DOMException(w.message, w.name);
  } else {
    e = new (BUILTIN[w.name] ?? Error)(w.message);
    if (e.name !== w.name) e.name = w.name;
  }
  if (w.stack !== undefined) Object.defineProperty(e, "stack", { value: w.stack, writable: true, configurable: true });
  if (w.cause !== undefined) Object.defineProperty(e, "cause", { value: fromWire(w.cause), writable: true, configurable: true });
  return e;
}
