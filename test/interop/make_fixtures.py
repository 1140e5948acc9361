"""Write TIFF and zarr fixtures with the tools microscopists use (tifffile, zarr-python 2, numcodecs),
each beside the array it holds, so the test can check that VolMicro reads what they wrote.

usage: python3 make_fixtures.py OUT_DIR      (then OUT_DIR/manifest.json lists the cases)

Each case: {"name", "path" (relative to OUT_DIR), "expect": {"raw", "dtype", "shape", ...}} for a
volume that must read bit-identically, or {"name", "path", "error"} for one that must be refused
with a message containing "error". Writers missing an optional codec are skipped, and listed in
"skipped" with the reason, so the test can say so.
"""
import json
import os
import sys

import numpy as np
import numcodecs
import tifffile
import zarr

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
cases = []
skipped = []


def volume(shape, dtype, seed):
    """Sparse bright blobs on a low background: like a neuron stack, and compressible."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    hi = min(info.max, 4000) if info else 1000.0
    a = rng.integers(0, max(2, int(hi) // 40), size=shape).astype(dtype)
    for _ in range(6):
        z, y, x = (rng.integers(0, n) for n in shape)
        a[max(0, z - 1):z + 2, max(0, y - 2):y + 3, max(0, x - 2):x + 3] = hi
    return a


def expect(name, path, a, **meta):
    raw = f"{name}.bin"
    a.astype(a.dtype.newbyteorder("<")).tofile(os.path.join(out, raw))
    cases.append({"name": name, "path": path, "expect": {"raw": raw, "dtype": str(a.dtype), "shape": list(a.shape), **meta}})


def refuse(name, path, error):
    cases.append({"name": name, "path": path, "error": error})


# ---------------------------------------------------------------- TIFF (tifffile)

def packbits_encode(data, axis=None, out=None):
    """PackBits (TIFF 6.0, section 9) of one strip: literal runs only, which every decoder accepts."""
    b = bytes(np.ascontiguousarray(data).view(np.uint8).ravel()) if not isinstance(data, bytes) else data
    res = bytearray()
    for i in range(0, len(b), 128):
        chunk = b[i:i + 128]
        res.append(len(chunk) - 1)
        res += chunk
    return bytes(res)


a = volume((5, 40, 33), np.uint16, 1)
tifffile.imwrite(os.path.join(out, "bigtiff.tif"), a, bigtiff=True, photometric="minisblack")
expect("bigtiff", "bigtiff.tif", a)

a = volume((4, 30, 20), np.uint16, 2)
tifffile.imwrite(os.path.join(out, "ome-um.ome.tif"), a, ome=True, photometric="minisblack", metadata={
    "axes": "ZYX", "PhysicalSizeX": 0.25, "PhysicalSizeXUnit": "µm", "PhysicalSizeY": 0.25, "PhysicalSizeYUnit": "µm",
    "PhysicalSizeZ": 2.0, "PhysicalSizeZUnit": "µm",
    "Plane": {"PositionX": [12.5] * 4, "PositionXUnit": ["µm"] * 4, "PositionY": [-3.0] * 4, "PositionYUnit": ["µm"] * 4,
              "PositionZ": [100.0, 102.0, 104.0, 106.0], "PositionZUnit": ["µm"] * 4},
})
expect("ome-um", "ome-um.ome.tif", a, voxelSize=[2.0, 0.25, 0.25], unit="micrometer", origin=[100.0, -3.0, 12.5])

a = volume((3, 24, 24), np.uint8, 3)
tifffile.TIFF.COMPRESSORS._codecs[32773] = packbits_encode  # tifffile needs imagecodecs for it otherwise
tifffile.imwrite(os.path.join(out, "packbits.tif"), a, compression="packbits", photometric="minisblack")
expect("packbits", "packbits.tif", a)

a = volume((3, 24, 30), np.uint16, 4)
try:
    import zstd
    tifffile.TIFF.COMPRESSORS._codecs[50000] = lambda data, level=None, out=None: zstd.compress(bytes(data), 3)
    tifffile.imwrite(os.path.join(out, "zstd.tif"), a, compression="zstd", photometric="minisblack")
    expect("zstd", "zstd.tif", a)
except ImportError as e:
    skipped.append(f"zstd TIFF: {e} (Debian python3-zstd)")

tifffile.imwrite(os.path.join(out, "lzma.tif"), a, compression="lzma", photometric="minisblack")
expect("lzma", "lzma.tif", a)

# A codec no decoder here covers. tifffile cannot encode JPEG XL without imagecodecs, so the strips
# are stored as they are under its code: the reader must refuse the file on the tag alone.
tifffile.TIFF.COMPRESSORS._codecs[50002] = lambda data, level=None, out=None: bytes(np.ascontiguousarray(data))
tifffile.imwrite(os.path.join(out, "jpegxl.tif"), a, compression=50002, photometric="minisblack")
refuse("jpegxl", "jpegxl.tif", "TIFF compression JPEG XL (50002) is not supported")

a = volume((4, 37, 29), np.uint16, 5)
tifffile.imwrite(os.path.join(out, "deflate-predictor.tif"), a, compression="zlib", predictor=True, photometric="minisblack")
expect("deflate-predictor", "deflate-predictor.tif", a)

a = volume((3, 50, 45), np.int16, 6)
tifffile.imwrite(os.path.join(out, "tiled.tif"), a, tile=(16, 32), compression="zlib", photometric="minisblack")
expect("tiled", "tiled.tif", a)

a = volume((6, 20, 25), np.uint16, 7)
tifffile.imwrite(os.path.join(out, "imagej.tif"), a, imagej=True, resolution=(1 / 0.5, 1 / 0.5),
                 metadata={"spacing": 3.0, "unit": "um", "axes": "ZYX", "xorigin": 4, "yorigin": -2, "zorigin": 1})
expect("imagej", "imagej.tif", a, voxelSize=[3.0, 0.5, 0.5], unit="micrometer", origin=[-3.0, 1.0, -2.0])

a = volume((3, 10, 12), np.float32, 8)
tifffile.imwrite(os.path.join(out, "float32-be.tif"), a.astype(">f4"), photometric="minisblack")
expect("float32-be", "float32-be.tif", a)

a = volume((3, 9, 11), np.uint16, 12).astype(np.float64) / 3.0
tifffile.imwrite(os.path.join(out, "float64.tif"), a, photometric="minisblack")
expect("float64-tif", "float64.tif", a.astype(np.float32), sourceDType="float64")

# ---------------------------------------------------------------- zarr (zarr-python 2, numcodecs)

def ome04(root, shape_scale, translation, axes_unit="micrometer", name="image"):
    root.attrs["multiscales"] = [{
        "version": "0.4", "name": name,
        "axes": [{"name": n, "type": "space", "unit": axes_unit} for n in "zyx"],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": shape_scale},
                                                                    {"type": "translation", "translation": translation}]}],
    }]


# absent chunks (written as zarr-python does with write_empty_chunks=False): they read as the fill value
a = np.full((8, 32, 32), 7, np.uint16)
a[2:4, 5:9, 20:25] = 900
z = zarr.open_array(os.path.join(out, "sparse.zarr"), mode="w", shape=a.shape, chunks=(4, 16, 16), dtype=a.dtype,
                    fill_value=7, compressor=numcodecs.Blosc("zstd", 3, numcodecs.Blosc.SHUFFLE), write_empty_chunks=False)
z[:] = a
assert len([k for k in os.listdir(os.path.join(out, "sparse.zarr")) if not k.startswith(".")]) == 1, "only one chunk stored"
expect("sparse", "sparse.zarr", a, missingChunks=True)

a = (volume((5, 12, 14), np.uint16, 9).astype(np.float64) / 7.0)
zarr.save_array(os.path.join(out, "float64.zarr"), a, chunks=(2, 6, 7), compressor=numcodecs.Zlib(5))
expect("float64", "float64.zarr", a.astype(np.float32), sourceDType="float64")

# bioformats2raw: a root group marking the layout, the image in "0/", OME-Zarr 0.4 inside it with a translation
a = volume((6, 20, 22), np.uint16, 10)
root = zarr.open_group(os.path.join(out, "bf2raw.zarr"), mode="w")
root.attrs["bioformats2raw.layout"] = 3
img = root.create_group("0")
img.create_dataset("0", data=a, chunks=(3, 10, 11), compressor=numcodecs.Blosc("lz4", 5))
ome04(img, [2.0, 0.5, 0.5], [10.0, -5.0, 2.5])
root.create_group("OME").attrs["series"] = ["0"]
expect("bf2raw", "bf2raw.zarr", a, voxelSize=[2.0, 0.5, 0.5], unit="micrometer", origin=[10.0, -5.0, 2.5])

# v2 with only consolidated metadata reachable for the group (served over HTTP with 403 for the rest)
a = volume((4, 16, 18), np.uint8, 11)
g = zarr.open_group(os.path.join(out, "consolidated.zarr"), mode="w")
g.create_dataset("0", data=a, chunks=(2, 8, 9), compressor=numcodecs.GZip(5))
ome04(g, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], axes_unit="nanometer")
zarr.consolidate_metadata(g.store)
for k in (".zgroup", ".zattrs"):
    os.remove(os.path.join(out, "consolidated.zarr", k))
expect("consolidated", "consolidated.zarr", a, voxelSize=[1.0, 1.0, 1.0], unit="nanometer")

with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump({"writer": {"tifffile": tifffile.__version__, "zarr": zarr.__version__, "numcodecs": numcodecs.__version__},
               "cases": cases, "skipped": skipped}, f, indent=1)
