/** The VolMicro tab's pure parts: zarr source URLs, share-link encoding and inline payload sources. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  base64, encodeStateFragment, inlineVmgSource, makeShareLink, replaceLayerSource, sourceOption, stateUrl, INLINE_MAX_BYTES,
} from "../src/viewer/tab/share-link.js";
import { zarrStoreUrl } from "../src/viewer/tab/zarr-url.js";

test("zarr store URLs from Neuroglancer source specs", () => {
  assert.equal(zarrStoreUrl("zarr://http://127.0.0.1:8411/data/a.zarr/"), "http://127.0.0.1:8411/data/a.zarr/");
  assert.equal(zarrStoreUrl("zarr2://https://host/b.zarr"), "https://host/b.zarr");
  assert.equal(zarrStoreUrl("zarr3://https://host/c.zarr/0"), "https://host/c.zarr/0");
  assert.equal(zarrStoreUrl("https://host/d.zarr/|zarr3:"), "https://host/d.zarr/");
  assert.equal(zarrStoreUrl("https://host/d.zarr|zarr2:sub/arr"), "https://host/d.zarr/sub/arr");
  assert.equal(zarrStoreUrl("precomputed://https://host/x"), undefined);
  assert.equal(zarrStoreUrl("vmg://data/x.vmg"), undefined);
  assert.equal(zarrStoreUrl("zarr://gs://bucket/x.zarr"), undefined, "only http(s) stores are read");
  assert.equal(zarrStoreUrl("https://host/a.zip|zip:|zarr3:"), undefined);
});

test("state fragments are encoded as Neuroglancer encodes its URL hash and decode back", () => {
  const state = { layers: [{ name: "a (b)", source: "vmg://data:application/octet-stream;base64,+/=" }], x: "!'*;," };
  const frag = encodeStateFragment(JSON.stringify(state));
  assert.doesNotMatch(frag, /[!'()*;, ]/);
  assert.deepEqual(JSON.parse(decodeURIComponent(frag)), state);
  assert.equal(stateUrl("http://h/p?q=1#!old", {}), "http://h/p?q=1#!%7B%7D");
});

test("base64 matches Node's for sizes across the chunking boundary", () => {
  for (const n of [0, 1, 2, 3, 100, 0x8000, 0x8001, 100_003]) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
    assert.equal(base64(b), Buffer.from(b).toString("base64"));
  }
});

test("a layer's source is replaced in list and object layer states, keeping other layers", () => {
  const list = { layers: [{ name: "v", source: "vmg://x.vmg" }, { name: "w", source: "vmg://x.vmg" }, { name: "u", source: [{ url: "vmg://x.vmg" }] }] };
  const a = replaceLayerSource(list, "v", "vmg://x.vmg", "vmg://data:z") as typeof list;
  assert.deepEqual(a.layers.map((l) => l.source), ["vmg://data:z", "vmg://x.vmg", [{ url: "vmg://x.vmg" }]]);
  assert.equal(list.layers[0]!.source, "vmg://x.vmg", "the input is not changed");
  const b = replaceLayerSource(list, "u", "vmg://x.vmg", "vmg://data:z") as typeof list;
  assert.deepEqual(b.layers[2]!.source, [{ url: "vmg://data:z" }]);
  const obj = { layers: { v: { source: { url: "vmg://x.vmg", transform: {} } } } };
  assert.deepEqual((replaceLayerSource(obj, "v", "vmg://x.vmg", "vmg://y") as typeof obj).layers.v.source, { url: "vmg://y", transform: {} });
});

test("share links inline small files, keep the decode option, and say when a file is too large", () => {
  assert.equal(sourceOption("vmg://a.vmg#decode=cpu"), "#decode=cpu");
  assert.equal(inlineVmgSource(Uint8Array.of(1, 2, 3), "#decode=cpu"), "vmg://data:application/octet-stream;base64,AQID#decode=cpu");
  const state = { layers: [{ name: "v", source: "vmg://data/a.vmg" }] };
  const small = makeShareLink("http://127.0.0.1:1/", state, "v", "vmg://data/a.vmg", new Uint8Array(1000));
  assert.ok(small.inline);
  const back = JSON.parse(decodeURIComponent(small.url.slice(small.url.indexOf("#!") + 2)));
  assert.match(back.layers[0].source, /^vmg:\/\/data:application\/octet-stream;base64,A{8}/);
  const big = makeShareLink("http://127.0.0.1:1/", state, "v", "vmg://data/a.vmg", new Uint8Array(INLINE_MAX_BYTES + 1));
  assert.equal(big.inline, false);
  assert.match(big.note, /too large/);
  const blob = makeShareLink("http://127.0.0.1:1/", state, "v", "vmg://blob:http://127.0.0.1:1/abc", new Uint8Array(INLINE_MAX_BYTES + 1));
  assert.match(blob.note, /download it and host it/);
});
