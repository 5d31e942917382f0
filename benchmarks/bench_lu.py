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

Run: .venv/bin/python benchmarks/bench_lu.py [--mats FILE ...] [--lattice 10000] [--repeats 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit

from gasgrid.linalg import analyse, lu_factor, lu_solve

ROOT = Path(__file__).resolve().parent.parent


@njit(cache=True, nogil=True)
def _factor_solve_loop(arrays, data, lx, ux, b, x, reps):  # type: ignore[no-untyped-def]
    """``reps`` factorisations and solves in compiled code (the Newton loop's view of the kernels)."""
    bad = 0
    for _ in range(reps):
        bad += lu_factor(arrays, data, lx, ux, 1e-10) >= 0
        lu_solve(arrays, lx, ux, b, x)
    return bad


@njit(cache=True, nogil=True)
def _factor_loop(arrays, data, lx, ux, reps):  # type: ignore[no-untyped-def]
    bad = 0
    for _ in range(reps):
        bad += lu_factor(arrays, data, lx, ux, 1e-10) >= 0
    return bad


def _median_us(f, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def lattice(n_target: int, seed: int = 7) -> dict[str, np.ndarray]:
    """A nodal-Jacobian-like matrix on a near-square lattice with diagonals in 30 % of the cells: weighted
    graph Laplacian, unsymmetric weights, a small diagonal shift (one row per pressure supply is an identity)."""
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


def bench(name: str, m: dict[str, np.ndarray], repeats: int) -> None:
    n = int(m["n"])
    indptr, indices, row_perm = m["indptr"], m["indices"], m["row_perm"]
    data = np.ascontiguousarray(m["data"][-1], dtype=np.float64)
    A = sp.csc_matrix((data, indices, indptr), shape=(n, n))
    PA = sp.csc_matrix(A[row_perm, :])
    b = np.random.default_rng(1).normal(size=n)
    reps = max(3, repeats // max(1, n // 300))
    pat = analyse(n, indptr, indices, row_perm)
    lx, ux, x = np.empty(pat.lnz), np.empty(pat.unz), np.empty(n)
    t_an = _median_us(lambda: analyse(n, indptr, indices, row_perm), reps)
    t_fa = _median_us(lambda: lu_factor(pat.arrays, data, lx, ux, 1e-10), reps)
    t_so = _median_us(lambda: lu_solve(pat.arrays, lx, ux, b, x), reps)
    inner = max(1, 20000 // max(1, pat.lnz + pat.unz))
    t_loop = _median_us(lambda: _factor_solve_loop(pat.arrays, data, lx, ux, b, x, inner), reps) / inner
    t_floop = _median_us(lambda: _factor_loop(pat.arrays, data, lx, ux, inner), reps) / inner
    assert lu_factor(pat.arrays, data, lx, ux, 1e-10) < 0
    lu_solve(pat.arrays, lx, ux, b, x)
    err = np.linalg.norm(A @ x - b) / np.linalg.norm(b)
    print(f"\n{name}: n={n}, nnz={A.nnz}  (relative residual {err:.1e})")
    print(f"  gasgrid  analyse {t_an:10.1f} us   factor {t_fa:10.1f} us   solve {t_so:9.1f} us   "
          f"factor+solve {t_fa + t_so:10.1f} us (from Python)")
    print(f"  gasgrid  in a compiled loop: factor {t_floop:10.1f} us   factor+solve {t_loop:10.1f} us")
    fill = pat.lnz + pat.unz + n
    print(f"  gasgrid  fill nnz(L)+nnz(U) = {fill} (L's unit diagonal counted, as SuperLU does)")
    for spec in ("COLAMD", "MMD_AT_PLUS_A"):
        if spec == "MMD_AT_PLUS_A" and n > 5000:
            print(f"  SuperLU {spec}: skipped (its ordering alone takes about a second at this size)")
            continue
        lu = spla.splu(PA, permc_spec=spec)
        t_sf = _median_us(lambda spec=spec: spla.splu(PA, permc_spec=spec), reps)
        t_ss = _median_us(lambda lu=lu: lu.solve(b), reps)
        sfill = lu.L.nnz + lu.U.nnz
        print(f"  SuperLU {spec:13s} factor {t_sf:10.1f} us   solve {t_ss:9.1f} us   factor+solve {t_sf + t_ss:10.1f} us"
              f"   fill {sfill}")
        print(f"    ratio gasgrid/SuperLU factor+solve: {(t_fa + t_so) / (t_sf + t_ss):.3f} (from Python), "
              f"{t_loop / (t_sf + t_ss):.3f} (compiled loop); fill ratio {fill / sfill:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mats", nargs="*", type=Path, default=sorted((ROOT / "tests" / "data").glob("lu_*.npz")))
    ap.add_argument("--lattice", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=300)
    args = ap.parse_args()
    warm = lattice(30)
    bench("warm-up", warm, 3)
    for path in args.mats:
        with np.load(path) as z:
            bench(path.stem, {k: z[k] for k in z.files}, args.repeats)
    if args.lattice:
        bench(f"lattice{args.lattice}", lattice(args.lattice), args.repeats)


if __name__ == "__main__":
    main()
