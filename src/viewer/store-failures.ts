/**
 * Main-thread record of failed Gaussian store chunks, fed by the chunk worker
 * (store-chunk-source.ts): per level array, how many chunks failed and the first error. The
 * VolMicro tab shows it ("k chunks failed: …"); `volmicro.storeChunkFailures()` gives it to tests
 * and the console.
 */
import { NullarySignal } from "neuroglancer/unstable/util/signal.js";
import { registerRPC } from "neuroglancer/unstable/worker_rpc.js";
import { VMG_STORE_CHUNK_FAILURE_RPC_ID, type StoreChunkFailure } from "./base.js";
import { shownSources } from "./shown-records.js";

export interface ArrayFailures {
  count: number;
  first: StoreChunkFailure;
}

export const storeChunkFailures = new Map<string, ArrayFailures>();
export const storeChunkFailuresChanged = new NullarySignal();

/** The failures of every level array of the store at `storeUrl` (its arrays' URLs lie below it). */
export function failuresUnder(storeUrl: string): ArrayFailures | undefined {
  const prefix = storeUrl.replace(/\/*$/, "/");
  let total: ArrayFailures | undefined;
  for (const [url, f] of storeChunkFailures) {
    if (!url.startsWith(prefix) && url !== prefix) continue;
    total = total ? { count: total.count + f.count, first: total.first } : { ...f };
  }
  return total;
}

registerRPC(VMG_STORE_CHUNK_FAILURE_RPC_ID, (f: StoreChunkFailure) => {
  const known = storeChunkFailures.get(f.url);
  if (known) known.count++;
  else if (shownSources.has(f.url)) storeChunkFailures.set(f.url, { count: 1, first: f });
  else return; // a chunk of a layer that has gone
  storeChunkFailuresChanged.dispatch();
});
