/**
 * An adaptive binary range coder (the LZMA construction: 11-bit probabilities, shift-5 adaptation,
 * carry propagation through a cached byte) and the integer models built on it. Deflate and other
 * LZ coders see quantised Gaussian parameters as near-random bytes; modelling each field's bits
 * adaptively codes them close to their entropy, in ~200 lines that run unchanged in Node and the
 * browser.
 */
import { StreamOverrunError } from "./errors.js";

const TOP = 1 << 24;
const TOP_MASK = -TOP; // the bits of 2^24 and above, as an int32 (0xff000000)
const PROB_BITS = 11;
const PROB_INIT = 1 << (PROB_BITS - 1);
const MOVE_BITS = 5;

export class RangeEncoder {
  private low = 0; // up to 2^32 + carry: a plain number is exact
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private out: number[] = [];

  bit(probs: Uint16Array, i: number, bit: number): void {
    const p = probs[i]!;
    const bound = (this.range >>> PROB_BITS) * p;
    if (bit === 0) {
      this.range = bound;
      probs[i] = p + (((1 << PROB_BITS) - p) >>> MOVE_BITS);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[i] = p - (p >>> MOVE_BITS);
    }
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 0x100000000) {
      const carry = this.low >= 0x100000000 ? 1 : 0;
      let c = this.cache;
      do {
        this.out.push((c + carry) & 0xff);
        c = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / 0x1000000) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % 0x1000000) * 256;
  }

  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return Uint8Array.from(this.out.slice(1)); // the first byte is always 0
  }
}

/**
 * The decoder keeps `range` and `code` as int32 bit patterns of the uint32s the construction
 * names (unsigned comparisons by flipping the sign bit, products by Math.imul): small integers to
 * V8 at every step, so code not yet optimised — all of it, in a process that decodes one file and
 * exits — allocates no heap number per bit. Bit-identical to the uint32 arithmetic.
 */
const SIGN = 1 << 31;

export class RangeDecoder {
  private range = -1; // 0xffffffff
  private code = 0;
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {
    for (let i = 0; i < 4; i++) this.code = (this.code << 8) | this.next();
  }

  private next(): number {
    // The decoder reads one byte per normalisation after its first four, the encoder writes one
    // per normalisation plus four flushed: a valid stream is never read past its end.
    if (this.pos >= this.bytes.length) {
      throw new StreamOverrunError(`packed Gaussian stream ends early: read past its ${this.bytes.length} bytes (truncated or corrupt)`, this.bytes.length);
    }
    return this.bytes[this.pos++]!;
  }

  /**
   * `n` bits, most significant first, appended to `value`: through the binary tree of contexts
   * rooted at `probs[start]` (`tree`: a bit's context is the path above it), or each bit through
   * its own context `probs[b]`, b = n − 1 … 0. One call per field instead of one per bit, with the
   * coder's state in locals: this runs once per file before any voxel, mostly in code not yet
   * optimised, where a call per bit cost more than the arithmetic.
   */
  bits(probs: Uint16Array, start: number, n: number, tree: boolean, value = 0): number {
    let range = this.range, code = this.code, node = start;
    for (let b = n - 1; b >= 0; b--) {
      const i = tree ? node : b;
      const p = probs[i]!;
      const bound = Math.imul(range >>> PROB_BITS, p);
      let bit = 0;
      if ((code ^ SIGN) < (bound ^ SIGN)) {
        range = bound;
        probs[i] = p + (((1 << PROB_BITS) - p) >>> MOVE_BITS);
      } else {
        code = (code - bound) | 0;
        range = (range - bound) | 0;
        probs[i] = p - (p >>> MOVE_BITS);
        bit = 1;
      }
      while ((range & TOP_MASK) === 0) { // range < 2^24
        range <<= 8;
        code = (code << 8) | this.next();
      }
      node = (node << 1) | bit;
      value = value * 2 + bit;
    }
    this.range = range;
    this.code = code;
    return value;
  }
}

/** Bits above this are coded with one context per bit position instead of a full tree. */
const TREE_BITS = 10;

/**
 * An adaptive model of unsigned integers of `bits` bits: a binary tree of contexts over the top
 * (up to 10) bits, so their joint distribution is learnt, and one context per position below.
 */
export class IntModel {
  private readonly tree: Uint16Array;
  private readonly low: Uint16Array;
  private readonly treeBits: number;

  constructor(readonly bits: number) {
    this.treeBits = Math.min(bits, TREE_BITS);
    this.tree = new Uint16Array(1 << this.treeBits).fill(PROB_INIT);
    this.low = new Uint16Array(Math.max(1, bits - this.treeBits)).fill(PROB_INIT);
  }

  encode(rc: RangeEncoder, value: number): void {
    const lowBits = this.bits - this.treeBits;
    let node = 1;
    for (let b = this.treeBits - 1; b >= 0; b--) {
      const bit = Math.floor(value / 2 ** (lowBits + b)) & 1;
      rc.bit(this.tree, node, bit);
      node = (node << 1) | bit;
    }
    for (let b = lowBits - 1; b >= 0; b--) rc.bit(this.low, b, Math.floor(value / 2 ** b) & 1);
  }

  decode(rd: RangeDecoder): number {
    const v = rd.bits(this.tree, 1, this.treeBits, true);
    return this.bits > this.treeBits ? rd.bits(this.low, 0, this.bits - this.treeBits, false, v) : v;
  }
}

/** Adaptive Elias-gamma: the bit length through an IntModel, the remaining bits by position. */
export class GammaModel {
  private readonly length = new IntModel(6);
  private readonly mantissa = new Uint16Array(64).fill(PROB_INIT);

  encode(rc: RangeEncoder, value: number): void {
    const v = value + 1;
    const n = Math.floor(Math.log2(v));
    this.length.encode(rc, n);
    for (let b = n - 1; b >= 0; b--) rc.bit(this.mantissa, b, Math.floor(v / 2 ** b) & 1);
  }

  decode(rd: RangeDecoder): number {
    return rd.bits(this.mantissa, 0, this.length.decode(rd), false, 1) - 1;
  }
}
