/**
 * The page's records kept per source URL (decode statistics, failed store chunks) last only as long
 * as a layer shows the source: without this, every store or file ever opened in a session kept its
 * entry (up to thousands of timings each) forever. A key is shown when it is a shown source's URL or
 * lies below one (a store's level arrays lie below the store). No Neuroglancer imports (unit-tested
 * in Node).
 */
export class ShownSources {
  /** Undefined until the layers are first told: everything counts as shown. */
  private urls: string[] | undefined;
  private prefixes: string[] = [];

  /** The URLs of the files and stores the layers show now. */
  set(urls: Iterable<string>): void {
    this.urls = [...urls];
    this.prefixes = this.urls.map((u) => u.replace(/\/*$/, "/"));
  }

  /** Whether a record keyed `key` belongs to a shown source (a report for one that is not, such as a chunk decoded after its layer went, starts no record). */
  has(key: string): boolean {
    return this.urls === undefined || this.urls.includes(key) || this.prefixes.some((p) => key.startsWith(p));
  }

  /** Removes the records of sources not shown; returns whether any went. */
  release(records: Map<string, unknown>): boolean {
    let released = false;
    for (const key of [...records.keys()]) {
      if (this.has(key)) continue;
      records.delete(key);
      released = true;
    }
    return released;
  }
}

/** What the viewer's layers show (file-holds.ts keeps it up to date). */
export const shownSources = new ShownSources();
