/** Test `.vmg` files: a synthetic neuron (not a fitted volume), a tiny one for data: links, a corrupt one. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeVmg } from "../../src/format/vmg.js";
import { syntheticNeuron } from "../../src/synthetic/neuron.js";

export interface TestData {
  dir: string;
  neuron: Uint8Array;
  tiny: Uint8Array;
}

export function makeTestData(): TestData {
  const dir = mkdtempSync(join(tmpdir(), "vmg-browser-"));
  const neuron = writeVmg(syntheticNeuron({ shape: [60, 150, 170], gaussians: 3000, dtype: "uint8", seed: 3 }));
  const tiny = writeVmg(syntheticNeuron({ shape: [20, 40, 48], gaussians: 150, dtype: "uint8", seed: 5, perCurve: 50 }));
  const corrupt = neuron.slice();
  corrupt[200]! ^= 0xff; // inside the payload: the checksum catches it
  writeFileSync(join(dir, "neuron.vmg"), neuron);
  writeFileSync(join(dir, "tiny.vmg"), tiny);
  writeFileSync(join(dir, "corrupt.vmg"), corrupt);
  writeFileSync(join(dir, "not-vmg.vmg"), "hello, this is text\n");
  return { dir, neuron, tiny };
}
