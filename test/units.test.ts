import assert from "node:assert/strict";
import { test } from "node:test";
import { metresPerUnit } from "../src/io/units.js";

test("metresPerUnit reads the OME-NGFF names our files carry and the spellings sources use; nothing for no length unit", () => {
  for (const u of ["micrometer", "µm", "um", "micron"]) assert.equal(metresPerUnit(u), 1e-6, u);
  assert.equal(metresPerUnit("nanometer"), 1e-9);
  assert.equal(metresPerUnit("mm"), 1e-3);
  for (const u of ["", "pixel", "second", "furlong"]) assert.equal(metresPerUnit(u), undefined, u);
});
