#!/usr/bin/env python3
"""An independent `.vmg` reader, written from docs/vmg-format.md alone (standard library only).

It exists to check the specification: it parses and validates the container (every rule the
document states; a violation raises a VmgError subclass whose message names the file and the
rule), decodes both Gaussian payload encodings to binary32 parameters, and evaluates the decoded
volume over a box at a scale in float64, following the document's definitions (§ 2, § 3).

Usage:
    python3 vmg_reader.py FILE [--scale K] [--box z0:z1,y0:y1,x0:x1]
                          [--params OUT.json] [--values OUT.bin] [--field OUT.f64]

  --scale K     scale 2^K (default 0)
  --box         half-open box in scale-K voxels (default: the whole grid of that scale)
  --params      JSON: {"header": {...}, "gaussians": [[px, py, pz, sx, sy, sz, qw, qx, qy, qz, amp], ...]}
                (numbers are the decoded binary32 values, written as exact doubles)
  --values      the box's stored values of the source dtype, little-endian, x fastest, then y, then z
  --field       the box's float64 field F (§ 2.2), little-endian, same order
Without --params/--values/--field it only validates the file and prints a one-line summary.
Exit status 1 with a one-line `vmg_reader: FILE: ErrorClass: problem` for an invalid file.
"""

import json
import math
import struct
import sys
import zlib

MAGIC = b"\x89VMG\r\n\x1a\n"


# ---------------------------------------------------------------- errors (§ 8's class names)

class VmgError(Exception):
    pass


class BadMagicError(VmgError):
    pass


class TruncatedFileError(VmgError):
    pass


class UnsupportedVersionError(VmgError):
    pass


class InvalidHeaderError(VmgError):
    pass


class ChecksumMismatchError(VmgError):
    pass


class UnsupportedEncodingError(VmgError):
    pass


class CountMismatchError(VmgError):
    pass


class InvalidParameterError(VmgError):
    pass


# refinements § 8 names for the bounds of § 6 and the stream rule of § 5.2

class CountBoundError(CountMismatchError):
    pass


class ParameterBoundError(InvalidParameterError):
    pass


class StreamOverrunError(TruncatedFileError):
    pass


# ---------------------------------------------------------------- binary helpers

def round32(x):
    """Nearest binary32 value (ties to even) of the binary64 x, as a Python float; ±inf on overflow."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def is_finite(x):
    return not (math.isinf(x) or math.isnan(x))


def pow2(x):
    """The binary64 2**x, +inf where it overflows (Python raises instead)."""
    try:
        return 2.0 ** x
    except OverflowError:
        return math.inf


class Bytes:
    def __init__(self, data):
        self.data = data

    def u8(self, o):
        return self.data[o]

    def u16(self, o):
        return struct.unpack_from("<H", self.data, o)[0]

    def u32(self, o):
        return struct.unpack_from("<I", self.data, o)[0]

    def i32(self, o):
        return struct.unpack_from("<i", self.data, o)[0]

    def f32(self, o):
        return struct.unpack_from("<f", self.data, o)[0]

    def f64(self, o):
        return struct.unpack_from("<d", self.data, o)[0]


KNOWN_SECTIONS = {b"META"}


def _reject_constant(name):
    raise ValueError("%s is not JSON" % name)


DTYPES = {  # code: (name, struct char, min, max); float32 has no range
    1: ("uint8", "B", 0, 255),
    2: ("uint16", "H", 0, 65535),
    3: ("uint32", "I", 0, 2 ** 32 - 1),
    4: ("int8", "b", -128, 127),
    5: ("int16", "h", -32768, 32767),
    6: ("int32", "i", -2 ** 31, 2 ** 31 - 1),
    7: ("float32", "f", None, None),
}


# ---------------------------------------------------------------- range decoder (§ 5.2, § 5.3)

class RangeDecoder:
    def __init__(self, data, start, end, fail):
        self.data, self.start, self.pos, self.end, self.fail = data, start, start, end, fail
        self.range = 0xFFFFFFFF
        self.code = 0
        for _ in range(4):
            self.code = (self.code << 8) | self.next_byte()

    def next_byte(self):
        if self.pos >= self.end:
            raise self.fail(StreamOverrunError, "range-coded stream needs a byte past its %d bytes (§ 5.2)" % (self.end - self.start))
        b = self.data[self.pos]
        self.pos += 1
        return b

    def bit(self, ctx, i):
        """Decode one bit with the adaptive probability ctx[i] (updated in place)."""
        p = ctx[i]
        bound = (self.range >> 11) * p
        if self.code < bound:
            self.range = bound
            ctx[i] = p + ((2048 - p) >> 5)
            bit = 0
        else:
            self.code -= bound
            self.range -= bound
            ctx[i] = p - (p >> 5)
            bit = 1
        while self.range < (1 << 24):
            self.range = (self.range << 8) & 0xFFFFFFFF
            self.code = ((self.code << 8) | self.next_byte()) & 0xFFFFFFFF
        return bit


class IntModel:
    def __init__(self, k):
        self.k = k
        self.t = min(k, 10)
        self.tree = [1024] * (1 << self.t)  # index 0 unused
        self.low = [1024] * max(0, k - self.t)

    def decode(self, rd):
        node = 1
        for _ in range(self.t):
            node = 2 * node + rd.bit(self.tree, node)
        v = node - (1 << self.t)
        for b in range(self.k - self.t - 1, -1, -1):
            v = 2 * v + rd.bit(self.low, b)
        return v


class GammaModel:
    def __init__(self):
        self.length = IntModel(6)
        self.mant = [1024] * 64

    def decode(self, rd):
        n = self.length.decode(rd)
        w = 1
        for b in range(n - 1, -1, -1):
            w = 2 * w + rd.bit(self.mant, b)
        return w - 1


# ---------------------------------------------------------------- the container

class Gaussian:
    __slots__ = ("position", "scale", "quaternion", "amplitude")

    def __init__(self, position, scale, quaternion, amplitude):
        self.position = position      # (x, y, z), normalised
        self.scale = scale            # (x, y, z), standard deviations in full-resolution voxels
        self.quaternion = quaternion  # (w, x, y, z), not normalised
        self.amplitude = amplitude

    def values(self):
        return list(self.position) + list(self.scale) + list(self.quaternion) + [self.amplitude]


class VmgFile:
    """A parsed and validated `.vmg` file (all checks of § 8 run in the constructor)."""

    def __init__(self, data, name="<vmg>"):
        self.name = name
        self.data = data
        self._parse()

    def fail(self, cls, problem):
        return cls("%s: %s" % (self.name, problem))

    # --- § 8 in order
    def _parse(self):
        d = self.data
        n = len(d)
        b = Bytes(d)
        fail = self.fail

        # 1. magic, then a minimal length
        k = min(n, 8)
        if d[:k] != MAGIC[:k]:
            raise fail(BadMagicError, "not a .vmg file: magic bytes differ (§ 1)")
        if n < 16:
            raise fail(TruncatedFileError, "shorter than 16 bytes (§ 8.1)")

        # 2. version, header length (120, or 144 from minor version 1: the origin), fixed header present
        self.major, self.minor = b.u16(8), b.u16(10)
        if self.major != 1:
            raise fail(UnsupportedVersionError, "major version %d, only 1 is read (§ 9)" % self.major)
        H = b.u32(12)
        min_h = 120 if self.minor == 0 else 144
        if H < min_h:
            raise fail(InvalidHeaderError, "header length %d < %d, the minimum of version 1.%d (§ 1)" % (H, min_h, self.minor))
        if n < min_h:
            raise fail(TruncatedFileError, "%d bytes, shorter than the %d-byte header (§ 8.2)" % (n, min_h))
        self.header_length = H

        # 3. everything declared fits
        self.n_gaussians = N = b.u32(104)
        P = b.u32(108)
        L = b.u32(112)
        S = b.u32(116)
        need = H + 4 * P + L + 12 * S + 4
        if need > n:
            raise fail(TruncatedFileError, "header declares at least %d bytes, file has %d (§ 8.3)" % (need, n))

        # 4. checksum, then feature flags
        stored = b.u32(n - 4)
        actual = zlib.crc32(d[: n - 4]) & 0xFFFFFFFF
        if stored != actual:
            raise fail(ChecksumMismatchError, "CRC-32 %08x, stored %08x (§ 7)" % (actual, stored))
        flags = b.u32(16)
        if flags != 0:
            raise fail(UnsupportedVersionError, "feature flags 0x%x set, none is defined (§ 1)" % flags)

        # 5. codes, then every header field's range
        dt = b.u8(72)
        if dt not in DTYPES:
            raise fail(InvalidHeaderError, "source dtype code %d not in 1 … 7 (§ 1)" % dt)
        self.dtype_code = dt
        enc = b.u8(73)
        if enc not in (0, 1):
            raise fail(UnsupportedEncodingError, "payload encoding %d not in 0, 1 (§ 1)" % enc)
        self.encoding = enc
        kind = b.u8(74)
        if kind not in (0, 1, 2):
            raise fail(InvalidHeaderError, "background kind %d not in 0 … 2 (§ 1)" % kind)
        self.background_kind = kind
        self.shape = (b.u32(20), b.u32(24), b.u32(28))  # z, y, x
        for axis, s in zip("zyx", self.shape):
            if not 1 <= s <= 2 ** 31 - 1:
                raise fail(InvalidHeaderError, "shape %s = %d not in 1 … 2³¹ − 1 (§ 1)" % (axis, s))
        self.voxel_size = (b.f64(32), b.f64(40), b.f64(48))
        for axis, v in zip("zyx", self.voxel_size):
            if not (is_finite(v) and v > 0):
                raise fail(InvalidHeaderError, "voxel size %s = %r not finite and > 0 (§ 1)" % (axis, v))
        unit_bytes = d[56:72]
        nul = unit_bytes.find(b"\0")
        chars = unit_bytes if nul < 0 else unit_bytes[:nul]
        for c in chars:
            if not 0x20 <= c <= 0x7E:
                raise fail(InvalidHeaderError, "unit byte 0x%02x before the first NUL is not printable ASCII (§ 1)" % c)
        self.unit = chars.decode("ascii")
        r = b.f32(84)
        if not (1 <= r <= 8):  # NaN fails too
            raise fail(InvalidHeaderError, "truncation radius %r not in 1 … 8 (§ 1)" % r)
        self.radius = r
        a, scale_b = b.f64(88), b.f64(96)
        if not is_finite(a):
            raise fail(InvalidHeaderError, "value offset %r not finite (§ 1)" % a)
        if not (is_finite(scale_b) and scale_b != 0):
            raise fail(InvalidHeaderError, "value scale %r not finite and ≠ 0 (§ 1)" % scale_b)
        self.value_offset, self.value_scale = a, scale_b
        if self.minor >= 1:
            self.origin = (b.f64(120), b.f64(128), b.f64(136))
            for axis, v in zip("zyx", self.origin):
                if not is_finite(v):
                    raise fail(InvalidHeaderError, "origin %s = %r not finite (§ 1)" % (axis, v))
        else:
            self.origin = (0.0, 0.0, 0.0)

        # 6. counts against lengths, then § 6's count bounds
        if enc == 0 and L != 22 * N:
            raise fail(CountMismatchError, "float16 payload of %d bytes for %d Gaussians, needs 22·N = %d (§ 4)" % (L, N, 22 * N))
        if enc == 1 and N > max(0, L - 45) // 2:
            raise fail(CountBoundError, "%d Gaussians in a %d-byte packed payload, more than ⌊max(0, L − 45)/2⌋ = %d (§ 6)" % (N, L, max(0, L - 45) // 2))
        nz, ny, nx = self.shape
        if N > nz * ny * nx:
            raise fail(CountBoundError, "%d Gaussians, more than the %d voxels (§ 6)" % (N, nz * ny * nx))

        # 7. background
        if kind == 0:
            want = 1
        elif kind == 1:
            deg = b.u8(75)
            if deg > 4:
                raise fail(InvalidHeaderError, "polynomial degree %d not in 0 … 4 (§ 1)" % deg)
            self.degree = deg
            want = (deg + 1) * (deg + 2) * (deg + 3) // 6
        else:
            self.grid = (b.u16(76), b.u16(78), b.u16(80))  # z, y, x
            for axis, g in zip("zyx", self.grid):
                if not 1 <= g <= 256:
                    raise fail(InvalidHeaderError, "grid nodes %s = %d not in 1 … 256 (§ 1)" % (axis, g))
            want = self.grid[0] * self.grid[1] * self.grid[2]
        if P != want:
            raise fail(CountMismatchError, "%d background parameters, the kind needs %d (§ 3)" % (P, want))
        self.background = [b.f32(H + 4 * i) for i in range(P)]
        for i, c in enumerate(self.background):
            if not is_finite(c):
                raise fail(InvalidParameterError, "background parameter %d is %r, not finite (§ 1)" % (i, c))

        # 8. payload
        start = H + 4 * P
        if enc == 0:
            self.gaussians = self._decode_f16(start, N)
        else:
            self.gaussians = self._decode_packed(start, L, N)

        # 9. every Gaussian against § 6
        D = math.sqrt(nz * nz + ny * ny + nx * nx)
        for i, g in enumerate(self.gaussians):
            self._check_gaussian(i, g, D)

        # 10. sections: each one's head and data within the file and no unknown critical one, in
        # turn; then no bytes before the checksum; then every tag
        o = start + L
        end = n - 4
        self.sections = []
        for s in range(S):
            if o + 12 > end:
                raise fail(TruncatedFileError, "section %d's head runs past the checksum (§ 7)" % s)
            tag = d[o: o + 4]
            sflags = b.u32(o + 4)
            length = b.u32(o + 8)
            if o + 12 + length > end:
                raise fail(TruncatedFileError, "section %d's %d data bytes run past the checksum (§ 7)" % (s, length))
            if tag not in KNOWN_SECTIONS and sflags & 1:
                raise fail(UnsupportedVersionError, "unknown critical section %r (§ 7)" % tag)
            self.sections.append((tag, sflags, d[o + 12: o + 12 + length]))
            o += 12 + length
        if o != end:
            raise fail(CountMismatchError, "%d bytes between the last section and the checksum (§ 1)" % (end - o))
        for s, (tag, _, _) in enumerate(self.sections):
            if not all(0x21 <= c <= 0x7E for c in tag):
                raise fail(InvalidHeaderError, "section %d's tag %r is not four printable ASCII characters other than space (§ 7)" % (s, tag))
        self.metadata = {}
        meta = [data for tag, _, data in self.sections if tag == b"META"]
        if meta:  # the first META: UTF-8 (BOM skipped, bad sequences U+FFFD); not a JSON object: empty
            try:
                obj = json.loads(meta[0].decode("utf-8-sig", errors="replace"), parse_constant=_reject_constant)
            except ValueError:
                obj = None
            self.metadata = obj if isinstance(obj, dict) else {}

    def _decode_f16(self, start, N):
        out = []
        vals = struct.unpack_from("<%de" % (11 * N), self.data, start)
        for i in range(N):  # infinite and NaN values are refused with the other checks of § 6, per Gaussian
            v = vals[11 * i: 11 * i + 11]
            out.append(Gaussian(tuple(v[0:3]), tuple(v[3:6]), tuple(v[6:10]), v[10]))
        return out

    def _decode_packed(self, start, L, N):
        fail = self.fail
        if L < 45:
            raise fail(CountMismatchError, "packed payload of %d bytes, shorter than its 45-byte table (§ 5)" % L)
        b = Bytes(self.data)
        t = start
        layout = b.u8(t)
        if layout != 1:
            raise fail(InvalidHeaderError, "packed table layout %d, only 1 is defined (§ 5.1)" % layout)
        dp = [b.f32(t + 1 + 4 * i) for i in range(3)]
        m = [b.i32(t + 13 + 4 * i) for i in range(3)]
        c = b.u8(t + 25)
        s0, ds = b.f32(t + 26), b.f32(t + 30)
        bs, br = b.u8(t + 34), b.u8(t + 35)
        a0, da = b.f32(t + 36), b.f32(t + 40)
        ba = b.u8(t + 44)
        for axis, v in zip("xyz", dp):
            if not (is_finite(v) and v > 0):
                raise fail(InvalidHeaderError, "position step %s = %r not finite and > 0 (§ 5.1)" % (axis, v))
        for axis, v in zip("xyz", m):
            if abs(v) > 2 ** 30:
                raise fail(InvalidHeaderError, "position origin %s = %d, |m| > 2³⁰ (§ 5.1)" % (axis, v))
        if c > 20:
            raise fail(InvalidHeaderError, "cell shift %d not in 0 … 20 (§ 5.1)" % c)
        for label, v in (("scale origin", s0), ("amplitude origin", a0)):
            if not is_finite(v):
                raise fail(InvalidHeaderError, "%s %r not finite (§ 5.1)" % (label, v))
        for label, v in (("scale step", ds), ("amplitude step", da)):
            if not (is_finite(v) and v > 0):
                raise fail(InvalidHeaderError, "%s %r not finite and > 0 (§ 5.1)" % (label, v))
        if not 1 <= bs <= 16:
            raise fail(InvalidHeaderError, "scale bits %d not in 1 … 16 (§ 5.1)" % bs)
        if not 2 <= br <= 16:
            raise fail(InvalidHeaderError, "rotation bits %d not in 2 … 16 (§ 5.1)" % br)
        if not 1 <= ba <= 16:
            raise fail(InvalidHeaderError, "amplitude bits %d not in 1 … 16 (§ 5.1)" % ba)

        rd = RangeDecoder(self.data, start + 45, start + L, self.fail)
        gap_m = GammaModel()
        off_m = [IntModel(max(1, c)) for _ in range(3)]
        scale_m = [IntModel(bs) for _ in range(3)]
        drop_m = IntModel(2)
        rot_m = [IntModel(br) for _ in range(3)]
        sign_m = IntModel(1)
        amp_m = IntModel(ba)

        lam = float(2 ** br - 1)
        S = struct.unpack("<d", bytes.fromhex("3FE6A09E667F3BCD")[::-1])[0]
        out = []
        cell = 0
        for i in range(N):
            cell += gap_m.decode(rd)
            if cell >= 2 ** 30:
                raise fail(InvalidParameterError, "Gaussian %d's Morton cell %d ≥ 2³⁰ (§ 5.4)" % (i, cell))
            o = [off_m[a].decode(rd) for a in range(3)] if c > 0 else [0, 0, 0]
            qs = [scale_m[a].decode(rd) for a in range(3)]
            j = drop_m.decode(rd)
            qr = [rot_m[t].decode(rd) for t in range(3)]
            sign = sign_m.decode(rd)
            qa = amp_m.decode(rd)

            coords = [0, 0, 0]  # x, y, z cell coordinates
            for bit in range(10):
                for a in range(3):
                    coords[a] |= ((cell >> (3 * bit + a)) & 1) << bit
            pos = tuple(round32(float((coords[a] << c) + o[a] + m[a]) * dp[a]) for a in range(3))
            scale = tuple(round32(pow2(s0 + qs[a] * ds)) for a in range(3))
            mag = pow2(a0 + qa * da)
            amp = round32(-mag if sign == 1 else mag)
            k = [((qr[t] / lam) * 2.0) * S - S for t in range(3)]
            big = math.sqrt(max(0.0, ((1.0 - k[0] * k[0]) - k[1] * k[1]) - k[2] * k[2]))
            quat = [0.0] * 4
            kept = [q for q in range(4) if q != j]
            quat[j] = round32(big)
            for t in range(3):
                quat[kept[t]] = round32(k[t])
            out.append(Gaussian(pos, scale, tuple(quat), amp))
        return out

    def _check_gaussian(self, i, g, D):
        """§ 6 in its order: finite, standard deviations, amplitude, quaternion norm."""
        fail = self.fail
        for x in g.values():
            if not is_finite(x):
                raise fail(InvalidParameterError, "Gaussian %d has a non-finite parameter (§ 6)" % i)
        for axis, s in zip("xyz", g.scale):
            if not (0.001 <= s <= D):
                raise fail(ParameterBoundError, "Gaussian %d's standard deviation %s = %r not in [0.001, %r] voxels (§ 6)" % (i, axis, s, D))
        if abs(g.amplitude) > 65504:
            raise fail(ParameterBoundError, "Gaussian %d's |amplitude| %r > 65504 (§ 6)" % (i, g.amplitude))
        if math.hypot(*g.quaternion) < 0.001:
            raise fail(ParameterBoundError, "Gaussian %d's quaternion norm is below 0.001 (§ 6)" % i)

    # ------------------------------------------------------------ header summary

    def header(self):
        h = {
            "version": "%d.%d" % (self.major, self.minor),
            "header_length": self.header_length,
            "shape": list(self.shape),
            "voxel_size": list(self.voxel_size),
            "unit": self.unit,
            "dtype": DTYPES[self.dtype_code][0],
            "encoding": ["f16", "packed"][self.encoding],
            "background_kind": ["constant", "polynomial", "grid"][self.background_kind],
            "background": self.background,
            "truncation_sigma": self.radius,
            "value_offset": self.value_offset,
            "value_scale": self.value_scale,
            "gaussians": self.n_gaussians,
            "origin": list(self.origin),
            "metadata": self.metadata,
            "sections": [s[0].decode("ascii", errors="replace") for s in self.sections],
        }
        if self.background_kind == 1:
            h["degree"] = self.degree
        if self.background_kind == 2:
            h["grid"] = list(self.grid)
        return h

    # ------------------------------------------------------------ evaluation (§ 2, § 3), float64

    def grid_shape(self, K):
        f = 2 ** K
        return tuple(-(-n // f) for n in self.shape)

    def background_at(self, ux, uy, uz):
        c = self.background
        if self.background_kind == 0:
            return c[0]
        if self.background_kind == 1:
            d = self.degree
            total, t = 0.0, 0
            for ez in range(d + 1):
                for ey in range(d - ez + 1):
                    for ex in range(d - ez - ey + 1):
                        total += c[t] * ux ** ex * uy ** ey * uz ** ez
                        t += 1
            return total
        gz, gy, gx = self.grid

        def axis(u, g):
            if g == 1:
                return 0, 0.0
            tt = min(max((u + 1) / 2 * (g - 1), 0.0), float(g - 1))
            i = min(int(math.floor(tt)), g - 2)
            return i, tt - i

        iz, wz = axis(uz, gz)
        iy, wy = axis(uy, gy)
        ix, wx = axis(ux, gx)

        def node(kz, ky, kx):
            return c[(kz * gy + ky) * gx + kx]

        total = 0.0
        for dz, fz in ((0, 1 - wz), (1, wz)):
            if fz == 0:
                continue
            for dy, fy in ((0, 1 - wy), (1, wy)):
                if fy == 0:
                    continue
                for dx, fx in ((0, 1 - wx), (1, wx)):
                    if fx == 0:
                        continue
                    total += fz * fy * fx * node(iz + dz, iy + dy, ix + dx)
        return total

    def field(self, K, box):
        """float64 field over box ((z0, z1), (y0, y1), (x0, x1)) of scale K, x fastest."""
        f = 2 ** K
        (z0, z1), (y0, y1), (x0, x1) = box
        nz_, ny_, nx_ = self.shape
        bz, by, bx = z1 - z0, y1 - y0, x1 - x0

        def u_of(j, n):
            return ((j + 0.5) * f / n) * 2 - 1

        uz = [u_of(z0 + j, nz_) for j in range(bz)]
        uy = [u_of(y0 + j, ny_) for j in range(by)]
        ux = [u_of(x0 + j, nx_) for j in range(bx)]
        out = [0.0] * (bz * by * bx)
        idx = 0
        for z in range(bz):
            for y in range(by):
                for x in range(bx):
                    out[idx] = self.background_at(ux[x], uy[y], uz[z])
                    idx += 1

        r2 = float(self.radius) * float(self.radius)
        e_r = math.exp(-r2 / 2)
        foot = (f * f - 1) / 12.0
        half = (f - 1) / 2.0
        n_xyz = (nx_, ny_, nz_)
        lo = (x0, y0, z0)
        hi = (x1, y1, z1)
        for g in self.gaussians:
            if g.amplitude == 0:
                continue
            cen = [(g.position[a] + 1) / 2 * n_xyz[a] - 0.5 for a in range(3)]
            w, qx, qy, qz = g.quaternion
            norm = math.sqrt(w * w + qx * qx + qy * qy + qz * qz)
            w, qx, qy, qz = w / norm, qx / norm, qy / norm, qz / norm
            R = [
                [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - w * qz), 2 * (qx * qz + w * qy)],
                [2 * (qx * qy + w * qz), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - w * qx)],
                [2 * (qx * qz - w * qy), 2 * (qy * qz + w * qx), 1 - 2 * (qx * qx + qy * qy)],
            ]
            s2 = [s * s for s in g.scale]
            cov = [[sum(R[i][k] * s2[k] * R[j][k] for k in range(3)) for j in range(3)] for i in range(3)]
            cov2 = [[cov[i][j] + (foot if i == j else 0.0) for j in range(3)] for i in range(3)]
            det = det3(cov)
            det2 = det3(cov2)
            amp = g.amplitude * math.sqrt(det / det2)
            inv = inv3(cov2, det2)
            # the support's bounding box in this scale's voxels: |v_a − c_a| ≤ r·√Σ'_aa (full resolution)
            rng = []
            for a in range(3):
                ext = math.sqrt(r2 * cov2[a][a])
                jlo = max(lo[a], int(math.floor((cen[a] - ext - half) / f)) - 1)
                jhi = min(hi[a], int(math.ceil((cen[a] + ext - half) / f)) + 2)
                rng.append((jlo, jhi))
            if any(l >= h for l, h in rng):
                continue
            (xl, xh), (yl, yh), (zl, zh) = rng
            for jz in range(zl, zh):
                dz = f * jz + half - cen[2]
                for jy in range(yl, yh):
                    dy = f * jy + half - cen[1]
                    base = ((jz - z0) * by + (jy - y0)) * bx - x0
                    qyz = inv[1][1] * dy * dy + 2 * inv[1][2] * dy * dz + inv[2][2] * dz * dz
                    for jx in range(xl, xh):
                        dx = f * jx + half - cen[0]
                        q = inv[0][0] * dx * dx + 2 * (inv[0][1] * dx * dy + inv[0][2] * dx * dz) + qyz
                        if q <= r2:
                            out[base + jx] += amp * (math.exp(-q / 2) - e_r) / (1 - e_r)
        return out

    def stored_values(self, field):
        """§ 2.4: values of the source dtype from the field."""
        name, ch, lo, hi = DTYPES[self.dtype_code]
        a, b = self.value_offset, self.value_scale
        if lo is None:
            return [round32(a + b * F) for F in field]
        return [min(hi, max(lo, math.floor((a + 0.5) + b * F))) for F in field]


def det3(m):
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def inv3(m, det):
    return [
        [(m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det, (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det, (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det],
        [(m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det, (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det, (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det],
        [(m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det, (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det, (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det],
    ]


# ---------------------------------------------------------------- CLI

def parse_box(text, grid):
    parts = text.split(",")
    if len(parts) != 3:
        raise ValueError("--box needs z0:z1,y0:y1,x0:x1")
    box = []
    for p, n in zip(parts, grid):
        lo_s, hi_s = p.split(":")
        lo, hi = int(lo_s), int(hi_s)
        if not 0 <= lo < hi <= n:
            raise ValueError("--box %s outside 0:%d" % (p, n))
        box.append((lo, hi))
    return box


def main(argv):
    args = {"--scale": "0"}
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--scale", "--box", "--params", "--values", "--field"):
            if i + 1 >= len(argv):
                print("vmg_reader: %s needs a value" % argv[i], file=sys.stderr)
                return 2
            args[argv[i]] = argv[i + 1]
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    if len(rest) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = rest[0]
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        vmg = VmgFile(data, path)
    except VmgError as e:
        print("vmg_reader: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    except OSError as e:
        print("vmg_reader: %s: %s" % (path, e.strerror), file=sys.stderr)
        return 1
    K = int(args["--scale"])
    if not 0 <= K <= 30:
        print("vmg_reader: --scale %d not in 0 … 30" % K, file=sys.stderr)
        return 2
    grid = vmg.grid_shape(K)
    try:
        box = parse_box(args["--box"], grid) if "--box" in args else [(0, n) for n in grid]
    except ValueError as e:
        print("vmg_reader: %s" % e, file=sys.stderr)
        return 2
    if "--params" in args:
        with open(args["--params"], "w") as fh:
            json.dump({"header": vmg.header(), "gaussians": [g.values() for g in vmg.gaussians]}, fh)
    if "--values" in args or "--field" in args:
        field = vmg.field(K, box)
        if "--field" in args:
            with open(args["--field"], "wb") as fh:
                fh.write(struct.pack("<%dd" % len(field), *field))
        if "--values" in args:
            ch = DTYPES[vmg.dtype_code][1]
            values = vmg.stored_values(field)
            with open(args["--values"], "wb") as fh:
                fh.write(struct.pack("<%d%s" % (len(values), ch), *values))
    if len(args) == 1:
        print("%s: .vmg %s, shape %s, %s, %d Gaussians (%s)" % (
            path, vmg.header()["version"], "x".join(map(str, vmg.shape)), vmg.header()["dtype"],
            len(vmg.gaussians), vmg.header()["encoding"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
