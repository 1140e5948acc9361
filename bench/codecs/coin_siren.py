"""COIN baseline for `npm run bench:rd`: a SIREN coordinate network (Sitzmann et al. 2020) fitted to
one volume and stored as float16 weights (Dupont et al. 2021), in numpy only (Debian python3-numpy).

  coin_siren.py train  IN.f32 D H W WIDTH DEPTH STEPS BATCH LR SEED OUT.f16
  coin_siren.py decode IN.f16 D H W WIDTH DEPTH OUT.f32

IN.f32 holds the target values mapped into [-1, 1] (z, y, x order, x fastest). The network maps
(z, y, x) in [-1, 1]^3 through DEPTH + 1 sine layers of WIDTH units (sin(w0 (x W + b)), w0 = 30,
SIREN's initialisation) and a linear output. Training: Adam on the mean squared error of uniformly
sampled voxel minibatches, exactly STEPS steps of BATCH voxels (the learning rate decays to a tenth
over the last 30 %), then the weights are rounded to float16, which is what is stored and decoded.
Both commands print one JSON line (seconds of the training loop / of the full-grid forward pass).
"""
import json
import sys
import time

import numpy as np

W0 = 30.0


def shapes(width, depth):
    dims = [3] + [width] * (depth + 1) + [1]
    return [(dims[i], dims[i + 1]) for i in range(len(dims) - 1)]


def init(width, depth, rng):
    params = []
    for i, (n_in, n_out) in enumerate(shapes(width, depth)):
        bound = 1.0 / n_in if i == 0 else np.sqrt(6.0 / n_in) / W0
        params.append(rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32))
        params.append(rng.uniform(-1.0 / np.sqrt(n_in), 1.0 / np.sqrt(n_in), n_out).astype(np.float32))
    return params


def forward(params, x, keep=False):
    h, cache = x, []
    n = len(params) // 2
    for i in range(n):
        z = h @ params[2 * i] + params[2 * i + 1]
        if i == n - 1:
            return z[:, 0], cache
        a = W0 * z
        if keep:
            cache.append((h, a))
        h = np.sin(a)
    raise AssertionError


def coords(idx, D, H, W):
    z, r = np.divmod(idx, H * W)
    y, x = np.divmod(r, W)
    out = np.empty((idx.size, 3), np.float32)
    out[:, 0] = z * (2.0 / max(D - 1, 1)) - 1
    out[:, 1] = y * (2.0 / max(H - 1, 1)) - 1
    out[:, 2] = x * (2.0 / max(W - 1, 1)) - 1
    return out


def train(path, D, H, W, width, depth, steps, batch, lr, seed, out):
    target = np.fromfile(path, np.float32)
    N = D * H * W
    assert target.size == N
    rng = np.random.default_rng(seed)
    params = init(width, depth, rng)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps = 0.9, 0.999, 1e-8
    batch = min(batch, N)
    n = len(params) // 2
    t0 = time.time()
    losses = []
    for step in range(steps):
        t = step / steps
        rate = lr if t < 0.7 else lr * (1 - 0.9 * (t - 0.7) / 0.3)
        idx = rng.integers(0, N, batch)
        x, y = coords(idx, D, H, W), target[idx]
        pred, cache = forward(params, x, keep=True)
        err = pred - y
        losses.append(float(np.mean(err * err)))
        g = (2.0 / batch) * err[:, None].astype(np.float32)
        grads = [None] * len(params)
        h_last = np.sin(cache[-1][1])
        grads[2 * n - 2] = h_last.T @ g
        grads[2 * n - 1] = g.sum(0)
        gh = g @ params[2 * n - 2].T
        for i in range(n - 2, -1, -1):
            h, a = cache[i]
            gz = gh * (W0 * np.cos(a))
            grads[2 * i] = h.T @ gz
            grads[2 * i + 1] = gz.sum(0)
            if i > 0:
                gh = gz @ params[2 * i].T
        c1, c2 = 1 - b1 ** (step + 1), 1 - b2 ** (step + 1)
        for p, gr, mm, vv in zip(params, grads, m, v):
            mm *= b1
            mm += (1 - b1) * gr
            vv *= b2
            vv += (1 - b2) * gr * gr
            p -= rate * (mm / c1) / (np.sqrt(vv / c2) + eps)
    seconds = time.time() - t0
    flat = np.concatenate([p.ravel() for p in params]).astype(np.float16)
    flat.tofile(out)
    tail = max(1, steps // 20)
    print(json.dumps({"seconds": seconds, "params": int(flat.size), "loss_last": float(np.mean(losses[-tail:])), "loss_first": losses[0]}))


def unflatten(flat, width, depth):
    params, o = [], 0
    for n_in, n_out in shapes(width, depth):
        params.append(flat[o:o + n_in * n_out].reshape(n_in, n_out)); o += n_in * n_out
        params.append(flat[o:o + n_out]); o += n_out
    assert o == flat.size, (o, flat.size)
    return params


def decode(path, D, H, W, width, depth, out):
    flat = np.fromfile(path, np.float16).astype(np.float32)
    params = unflatten(flat, width, depth)
    N = D * H * W
    result = np.empty(N, np.float32)
    chunk = 1 << 16
    t0 = time.time()
    for s in range(0, N, chunk):
        idx = np.arange(s, min(N, s + chunk))
        result[s:s + idx.size] = forward(params, coords(idx, D, H, W))[0]
    seconds = time.time() - t0
    result.tofile(out)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "train":
        train(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]), int(a[6]), int(a[7]), float(a[8]), int(a[9]), a[10])
    elif cmd == "decode":
        decode(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6])
    else:
        sys.exit(f"unknown command {cmd}")
