/**
 * The page's records kept per source URL (decode statistics, failed store chunks) last only as long
 * as a layer shows the source: without this, every store or file ever opened in a session kept its
 * entry (up to thousands of timings each) forever. No Neuroglancer imports (unit-tested in Node).
 */

/**
 * Removes the records of sources no layer shows: a key stays when it is a shown URL or lies below
 * one (a store's level arrays lie below the store). Returns whether any went.
 */
export function releaseUnshown(records: Map<string, unknown>, shown: Iterable<string>): boolean {
  const urls = [...shown];
  const prefixes = urls.map((u) => u.replace(/\/*$/, "/"));
  let released = false;
  for (const key of [...records.keys()]) {
    if (urls.includes(key) || prefixes.some((p) => key.startsWith(p))) continue;
    records.delete(key);
    released = true;
  }
  return released;
}
