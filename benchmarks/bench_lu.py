"""Benchmark (not a test): gasgrid.linalg.sparse_lu against SuperLU (scipy.sparse.linalg.splu) on Newton matrices.

For each matrix: the symbolic analysis (``analyse``), the numeric factorisation and the solve, as medians over
many repeats in this process (numba caches warm), next to SuperLU's ``splu`` (COLAMD, the ordering gasgrid's
solvers use, and MMD on AᵀA + A) factorisation and solve of P·A, plus the fill of both. gasgrid's kernels are
timed twice: called from Python (numba dispatch included) and inside a compiled loop (what a compiled Newton
loop pays). The machine is shared: run it on a quiet machine and quote medians.

Matrices: ``.npz`` files with keys n, indptr, indices (CSC pattern), data (one row of values per Newton
iteration) and row_perm (the static row permutation), e.g. tests/data/lu_*.npz (default), plus a generated
meshed lattice (``--lattice N``: about N unknowns, a 2-D grid with random diagonals, like
``benchmarks/synthetic.py``'s networks; 0 to skip).

Run: .venv/bin/python benchmarks/bench_lu.py [--mats FILE ...] [--lattice 10000] [--repeats 400]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit

from gasgrid.linalg import DEFAULT_PIVOT_TOL, analyse, lu_factor, lu_solve

ROOT = Path(__file__).resolve().parent.parent
F64 = np.ndarray
TOL = DEFAULT_PIVOT_TOL


@njit(cache=True, nogil=True)
def _factor_solve_loop(arrays: tuple[np.ndarray, ...], data: F64, lx: F64, ux: F64, b: F64, x: F64, reps: int) -> int:
    """``reps`` factorisations and solves in compiled code (the Newton loop's view of the kernels)."""
    bad = 0
    for _ in range(reps):
        bad += lu_factor(arrays, data, lx, ux, TOL) >= 0
        lu_solve(arrays, lx, ux, b, x)
    return bad


@njit(cache=True, nogil=True)
def _factor_loop(arrays: tuple[np.ndarray, ...], data: F64, lx: F64, ux: F64, reps: int) -> int:
    """``reps`` factorisations in compiled code."""
    bad = 0
    for _ in range(reps):
        bad += lu_factor(arrays, data, lx, ux, TOL) >= 0
    return bad


def _once_us(f: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    f()
    return (time.perf_counter() - t0) * 1e6


def _interleaved_medians(fs: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median time of each callable [us], timed round-robin (one call of each per round) so that a change of
    load on the shared machine affects all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in fs}
    for _ in range(rounds):
        for k, f in fs.items():
            times[k].append(_once_us(f))
    return {k: statistics.median(v) for k, v in times.items()}


def lattice(n_target: int, seed: int = 7) -> dict[str, np.ndarray]:
    """A nodal-Jacobian-like matrix on a near-square lattice with diagonals in 30 % of the cells: weighted
    graph Laplacian with slightly unsymmetric weights (±10 %) plus a small positive diagonal shift; three sets
    of values perturbed by ±5 % stand for Newton iterations."""
    rng = np.random.default_rng(seed)
    ny = int(np.sqrt(n_target))
    nx = -(-n_target // ny)
    n = ny * nx
    idx = np.arange(n).reshape(ny, nx)
    edges = [np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]), np.stack([idx[:-1].ravel(), idx[1:].ravel()])]
    diag = rng.random((ny - 1, nx - 1)) < 0.3
    edges.append(np.stack([idx[:-1, :-1][diag], idx[1:, 1:][diag]]))
    f, t = np.concatenate(edges, axis=1)
    wf = rng.uniform(0.5, 2.0, f.size)
    wt = wf * rng.uniform(0.9, 1.1, f.size)
    rows = np.concatenate([f, t, f, t])
    cols = np.concatenate([t, f, f, t])
    vals = np.concatenate([-wf, -wt, wf, wt])
    A = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsc()
    A = (A + sp.diags(rng.uniform(1e-3, 1e-2, n))).tocsc()
    A.sort_indices()
    data = np.stack([A.data * rng.uniform(0.95, 1.05, A.nnz) for _ in range(3)])
    return {"n": np.int64(n), "indptr": A.indptr, "indices": A.indices, "data": data, "row_perm": np.arange(n)}


def bench(name: str, m: dict[str, np.ndarray], repeats: int, quiet: bool = False) -> None:
    n = int(m["n"])
    indptr, indices, row_perm = m["indptr"], m["indices"], m["row_perm"]
    data = np.ascontiguousarray(m["data"][-1], dtype=np.float64)
    A = sp.csc_matrix((data, indices, indptr), shape=(n, n))
    PA = sp.csc_matrix(A[row_perm, :])
    b = np.random.default_rng(1).normal(size=n)
    rounds = repeats if n < 1000 else max(15, repeats // 20)
    pat = analyse(n, indptr, indices, row_perm)
    lx, ux, x = np.empty(pat.lnz), np.empty(pat.unz), np.empty(n)
    inner = max(1, 20000 // max(1, pat.lnz + pat.unz))
    specs = ("COLAMD",) if n > 5000 else ("COLAMD", "MMD_AT_PLUS_A")
    lus = {spec: spla.splu(PA, permc_spec=spec) for spec in specs}
    fs: dict[str, Callable[[], object]] = {
        "analyse": lambda: analyse(n, indptr, indices, row_perm),
        "factor": lambda: lu_factor(pat.arrays, data, lx, ux, TOL),
        "solve": lambda: lu_solve(pat.arrays, lx, ux, b, x),
        "loop_factor": lambda: _factor_loop(pat.arrays, data, lx, ux, inner),
        "loop_both": lambda: _factor_solve_loop(pat.arrays, data, lx, ux, b, x, inner),
    }
    for spec in specs:
        fs[spec] = lambda spec=spec: spla.splu(PA, permc_spec=spec)
        fs[spec + "_solve"] = lambda spec=spec: lus[spec].solve(b)
    t = _interleaved_medians(fs, rounds)
    if quiet:
        return
    assert lu_factor(pat.arrays, data, lx, ux, TOL) < 0
    lu_solve(pat.arrays, lx, ux, b, x)
    err = np.linalg.norm(A @ x - b) / np.linalg.norm(b)
    both = t["factor"] + t["solve"]
    loop_f, loop_b = t["loop_factor"] / inner, t["loop_both"] / inner
    fill = pat.lnz + pat.unz + n
    print(f"\n{name}: n={n}, nnz={A.nnz}, medians of {rounds} interleaved rounds (relative residual {err:.1e})")
    print(f"  gasgrid  analyse {t['analyse']:9.1f} us | from Python: factor {t['factor']:9.1f} us, solve "
          f"{t['solve']:8.1f} us, both {both:9.1f} us | in a compiled loop: factor {loop_f:9.1f} us, both {loop_b:9.1f} us")
    print(f"  gasgrid  fill nnz(L)+nnz(U) = {fill} (L's unit diagonal counted, as SuperLU counts it)")
    for spec in specs:
        sf, ss = t[spec], t[spec + "_solve"]
        sfill = lus[spec].L.nnz + lus[spec].U.nnz
        print(f"  SuperLU {spec:13s} factor {sf:9.1f} us, solve {ss:8.1f} us, both {sf + ss:9.1f} us, fill {sfill}"
              f"  -> gasgrid/SuperLU factor+solve {both / (sf + ss):.3f} (Python), {loop_b / (sf + ss):.3f} (compiled);"
              f" fill {fill / sfill:.3f}")
    if n > 5000:
        print("  SuperLU MMD_AT_PLUS_A skipped: its ordering alone takes about a second at this size")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mats", nargs="*", type=Path, default=sorted((ROOT / "tests" / "data").glob("lu_*.npz")))
    ap.add_argument("--lattice", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=400)
    args = ap.parse_args()
    bench("warm-up", lattice(30), 3, quiet=True)
    for path in args.mats:
        with np.load(path) as z:
            bench(path.stem, {k: z[k] for k in z.files}, args.repeats)
    if args.lattice:
        bench(f"lattice{args.lattice}", lattice(args.lattice), args.repeats)


if __name__ == "__main__":
    main()
