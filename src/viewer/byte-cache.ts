/**
 * A cache bounded in bytes: entries (each with an estimate of the bytes it keeps alive, which may
 * grow as it is used) are evicted least recently used first, but never while something holds
 * their key (a layer showing the file). Eviction calls `release` so the entry frees what it owns
 * (GPU buffers). A key may be held before its entry exists. No Neuroglancer or DOM imports.
 */
export class ByteCache<V> {
  /** Insertion order is recency order: most recently used last. */
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private holds = new Set<string>();
  private total = 0;

  constructor(private maxBytes: number, private readonly release: (key: string, value: V) => void) {}

  get bytes(): number {
    return this.total;
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The entry's value without making it more recent. */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Add or replace an entry (a replaced value is released), then evict down to the bound. */
  set(key: string, value: V, bytes: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.total -= old.bytes;
      if (old.value !== value) this.release(key, old.value);
    }
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    this.evict();
  }

  /** The entry's estimate changed (a scale prepared, buffers uploaded). */
  resize(key: string, bytes: number): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.total += bytes - e.bytes;
    e.bytes = bytes;
    this.evict();
  }

  /** Hold exactly these keys (what the layers show now); the others become evictable. */
  holdOnly(keys: Iterable<string>): void {
    this.holds = new Set(keys);
    this.evict();
  }

  held(key: string): boolean {
    return this.holds.has(key);
  }

  setMaxBytes(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.evict();
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Every entry, least recently used first, with its estimate; recency is left as it is. */
  list(): Array<{ key: string; value: V; bytes: number; held: boolean }> {
    return [...this.entries].map(([key, e]) => ({ key, value: e.value, bytes: e.bytes, held: this.holds.has(key) }));
  }

  /** Evict unheld entries, least recently used first, until within the bound (held ones may exceed it). */
  private evict(): void {
    if (this.total <= this.maxBytes) return;
    for (const [key, e] of [...this.entries]) {
      if (this.total <= this.maxBytes) return;
      if (this.holds.has(key)) continue;
      this.entries.delete(key);
      this.total -= e.bytes;
      this.release(key, e.value);
    }
  }
}
