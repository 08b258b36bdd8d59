"""The numpy reference of `lowrankbias analyze FILE --no-plots`: WeightWatcher's analyze() defaults on a safetensors
file, as WeightWatcher computes them on a CPU (scipy/numpy `svd(W, compute_uv=False)` of every matrix in float64,
`combined_eigenvalues`; its `WWFit` loop over every x_min; the MP fit; the norm metrics), with the per-layer functions
of tests/fixtures/weightwatcher/make_ww.py (each cites the WeightWatcher function it re-implements). Tensors are read
one at a time from a memory map, as WeightWatcher gets them from a loaded model.

Run:  python3 analyze_numpy.py model.safetensors [details.csv]
Prints the layer count, the summary and the seconds spent; writes the per-layer metrics as CSV when asked (for
analyze_vs_numpy.sh to compare with ours).
"""
import json
import os
import struct
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "weightwatcher"))
from make_ww import matrix_entropy, matrix_rank, mp_fit, wmats, ww_fit  # noqa: E402

MIN_EVALS, MAX_EVALS, MAX_N = 10, 15000, 50000  # analyze() defaults, layer_supported
DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": np.uint16}


def tensors(path):
    """(name, array) of every floating-point tensor of a safetensors file, memory-mapped (BF16 widened to float32)."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    for name, e in header.items():
        if name == "__metadata__" or e["dtype"] not in DTYPES:
            continue
        begin, end = e["data_offsets"]
        a = data[begin:end].view(DTYPES[e["dtype"]]).reshape(e["shape"])
        yield name, (a.astype(np.uint32) << 16).view(np.float32) if e["dtype"] == "BF16" else a


def analyze_layer(w):
    """apply_esd (combined_eigenvalues: one SVD per matrix, rank_loss from it), apply_powerlaw, apply_mp_fit,
    apply_norm_metrics."""
    mats, n, m, rf = wmats(w)
    scale = np.sqrt(1 / 2.0) if w.ndim == 4 else 1.0
    svs = [np.linalg.svd(x.astype(np.float64) * scale, compute_uv=False) for x in mats]
    rank_loss = sum(len(sv) - matrix_rank(sv, n) for sv in svs)
    evals = np.sort(np.concatenate(svs) ** 2)
    fit = ww_fit(evals)
    alpha, xmin, d, sigma = fit if fit is not None else (np.nan,) * 4
    norm, spectral = np.sum(evals), np.max(evals)
    row = dict(N=n, M=m, rf=rf, num_evals=len(evals), alpha=alpha, xmin=xmin, D=d, sigma=sigma,
               log_norm=np.log10(norm), log_spectral_norm=np.log10(spectral), alpha_weighted=alpha * np.log10(spectral),
               log_alpha_norm=np.log10(np.sum(evals ** alpha)), stable_rank=norm / spectral,
               matrix_rank=matrix_rank(np.sqrt(evals), n), entropy=matrix_entropy(np.sqrt(evals), n), rank_loss=rank_loss)
    # A zero matrix (ViT's zero-initialised head) has no bulk: WeightWatcher's fit fails there, ours reports NaN.
    row.update(mp_fit(evals, n, m) if norm > 0 else dict.fromkeys(["sigma_mp", "num_spikes", "mp_softrank", "bulk_max", "bulk_min"], np.nan))
    return row


def main():
    np.seterr(all="ignore")  # a zero matrix's entropy and log norms are NaN and −∞, as in WeightWatcher
    start = time.perf_counter()
    rows = []
    for name, w in tensors(sys.argv[1]):
        if w.ndim in (2, 4) and min(w.shape) > 0 and supported(w):
            rows.append((name, analyze_layer(w)))
    seconds = time.perf_counter() - start
    summary = {k: float(np.mean([r[k] for _, r in rows if np.isfinite(r[k])]))  # as ours: a failed fit or a zero matrix left out
               for k in ["log_norm", "alpha", "alpha_weighted", "log_alpha_norm", "log_spectral_norm", "stable_rank", "mp_softrank"]}
    print(f"{sys.argv[1]}: {len(rows)} layers in {seconds:.2f} s")
    print("summary: " + ", ".join(f"{k} {v:.4g}" for k, v in summary.items()))
    if len(sys.argv) > 2:
        columns = list(rows[0][1])
        with open(sys.argv[2], "w") as f:
            f.write("name," + ",".join(columns) + "\n")
            for name, r in rows:
                f.write(name + "," + ",".join(repr(float(r[c])) for c in columns) + "\n")


def supported(w):
    """layer_supported with the defaults: min_evals ≤ M·rf ≤ max_evals and N ≤ max_N, N ≥ M the sides of one matrix."""
    if w.ndim == 2:
        n, m, rf = max(w.shape), min(w.shape), 1
    else:
        a, b, rf = (w.shape[0], w.shape[1], w.shape[2] * w.shape[3]) if w.shape[0] + w.shape[1] >= w.shape[2] + w.shape[3] \
            else (w.shape[2], w.shape[3], w.shape[0] * w.shape[1])
        n, m = max(a, b), min(a, b)
    return MIN_EVALS <= m * rf <= MAX_EVALS and n <= MAX_N


if __name__ == "__main__":
    main()
