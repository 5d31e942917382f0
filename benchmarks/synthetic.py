"""Reproducible synthetic meshed gas networks for the steady benchmarks (not part of the library).

Contract: ``synthetic_network(n_nodes, seed=...)`` returns a validated :class:`gasgrid.Network` with exactly
``n_nodes`` nodes, identical for the same arguments on any machine (numpy's PCG64 stream). The network is a
lattice (row-major, as square as possible) whose cells get a diagonal pipe with probability ``p_diagonal``:

- pipe lengths log-uniform in [1, 30] km; Colebrook friction, roughness 0.012-0.05 mm;
- diameters 200-1200 mm: every 8th row and column is a trunk (DN 800-1200), the rest is distribution
  (DN 200-600), so the net has the trunk-and-mesh structure of a real regional grid;
- one pressure supply at 70 bar per ~25,000 nodes (at least one), spread over the lattice;
- a fixed demand at ~85 % of the nodes (log-normal sizes), scaled so that the lowest pressure comes out
  near ``p_min_target_bar``: the scale comes from a fixed-lambda estimate of the squared-pressure drop
  (a few Picard sweeps of the linearised network, numpy/scipy only, so the generator does not depend on
  the solver it benchmarks);
- elevations a smooth random field of 0-200 m.

Lengths are drawn independently of the lattice geometry (coordinates are indicative, 10 km spacing).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gasgrid import Gas, Network

P_SUPPLY_BAR = 70.0
TEMPERATURE_K = 283.15
NODES_PER_SUPPLY = 25_000
TRUNK_EVERY = 8


def lattice_shape(n_nodes: int) -> tuple[int, int]:
    """(rows, columns) of the smallest near-square lattice holding ``n_nodes`` (last row may be partial)."""
    if n_nodes < 4:
        raise ValueError(f"n_nodes must be >= 4, got {n_nodes}")
    ny = math.isqrt(n_nodes)
    nx = -(-n_nodes // ny)
    return ny, nx


def _edges(n: int, ny: int, nx: int, p_diagonal: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Lattice edges (from, to, is_trunk) on the first ``n`` row-major nodes."""
    idx = np.arange(ny * nx).reshape(ny, nx)
    exists = idx < n
    rows, cols = np.divmod(idx, nx)
    trunk_row = rows % TRUNK_EVERY == 0
    trunk_col = cols % TRUNK_EVERY == 0
    # horizontal
    a, b = idx[:, :-1], idx[:, 1:]
    ok = exists[:, :-1] & exists[:, 1:]
    h = (a[ok], b[ok], trunk_row[:, :-1][ok])
    # vertical
    a, b = idx[:-1, :], idx[1:, :]
    ok = exists[:-1, :] & exists[1:, :]
    v = (a[ok], b[ok], trunk_col[:-1, :][ok])
    # one diagonal in a random share of the cells, in a random orientation
    c00, c01, c10, c11 = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    ok = exists[1:, 1:]
    pick = (rng.random(c00.shape) < p_diagonal) & ok
    flip = rng.random(c00.shape) < 0.5
    da = np.where(flip, c01, c00)[pick]
    db = np.where(flip, c10, c11)[pick]
    d = (da, db, np.zeros(len(da), dtype=bool))
    return tuple(np.concatenate(parts) for parts in zip(h, v, d, strict=True))


def _smooth_field(ny: int, nx: int, rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    """A smooth random field on the lattice (sum of a few low-frequency waves), scaled to [lo, hi]."""
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    f = np.zeros((ny, nx))
    for _ in range(6):
        ky, kx = rng.uniform(0.5, 3.0, 2) * 2 * np.pi / np.array([max(ny, 2), max(nx, 2)])
        f += rng.normal() * np.sin(ky * yy + kx * xx + rng.uniform(0, 2 * np.pi))
    f -= f.min()
    span = f.max()
    return lo + (hi - lo) * (f / span if span > 0 else f)


def _drop_estimate(
    n: int, fr: np.ndarray, to: np.ndarray, k: np.ndarray, supply: np.ndarray, w: np.ndarray, sweeps: int = 12
) -> float:
    """Largest squared-pressure drop [Pa^2] for withdrawals ``w`` [kg/s] under pi_i - pi_j = k q|q|.

    Picard on the conductances 1 / (k |q|), with the flow magnitude averaged over the last two sweeps
    (plain Picard oscillates on q|q|). Supplies hold pi = 0 (we want the drop only)."""
    m = len(fr)
    free = np.ones(n, dtype=bool)
    free[supply] = False
    inc = sp.csr_matrix(
        (np.concatenate([np.ones(m), -np.ones(m)]), (np.concatenate([fr, to]), np.tile(np.arange(m), 2))),
        shape=(n, m),
    )
    q_typ = max(float(np.abs(w).sum()) / max(len(supply), 1) / 50.0, 1e-6)
    qa = np.full(m, q_typ)
    drop = 0.0
    for _ in range(sweeps):
        g = 1.0 / (k * np.maximum(qa, 1e-6 * q_typ))
        lap = (inc @ sp.diags(g) @ inc.T).tocsr()[free][:, free]
        pi = np.zeros(n)
        pi[free] = spla.splu(lap.tocsc(), permc_spec="COLAMD").solve(-w[free])
        q = g * (pi[fr] - pi[to])
        qa = 0.5 * (qa + np.abs(q))
        drop = float(-pi.min())
    return drop


def synthetic_network(
    n_nodes: int,
    *,
    seed: int = 0,
    p_diagonal: float = 0.3,
    demand_share: float = 0.85,
    p_min_target_bar: float = 45.0,
) -> Network:
    """A meshed transmission/distribution network of ``n_nodes`` nodes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = int(n_nodes)
    ny, nx = lattice_shape(n)
    fr, to, trunk = _edges(n, ny, nx, p_diagonal, rng)
    m = len(fr)
    length_km = np.exp(rng.uniform(math.log(1.0), math.log(30.0), m))
    dn_trunk = np.array([800.0, 900.0, 1000.0, 1200.0])
    dn_dist = np.array([200.0, 300.0, 400.0, 500.0, 600.0])
    diameter_mm = np.where(trunk, rng.choice(dn_trunk, m), rng.choice(dn_dist, m))
    roughness_mm = rng.uniform(0.012, 0.05, m)
    elevation = _smooth_field(ny, nx, rng, 0.0, 200.0).ravel()[:n]

    n_sup = max(1, round(n / NODES_PER_SUPPLY))
    # supplies on an even spread of lattice points, off the boundary
    gy = max(1, round(math.sqrt(n_sup * ny / nx)))
    gx = -(-n_sup // gy)
    sup = []
    for i in range(n_sup):
        r = int((i // gx + 0.5) * (ny - 1) / gy)
        c = int((i % gx + 0.5) * nx / gx)
        sup.append(min(r * nx + c, n - 1))
    supply = np.unique(np.array(sup, dtype=np.int64))

    is_demand = rng.random(n) < demand_share
    is_demand[supply] = False
    base = np.where(is_demand, rng.lognormal(0.0, 0.8, n), 0.0)

    # fixed-lambda estimate of the drop for the base demands, then scale to the target lowest pressure
    gas = Gas()
    lam = 0.011
    area = np.pi * (diameter_mm / 1e3) ** 2 / 4.0
    k = lam * gas.R_specific * TEMPERATURE_K * length_km * 1e3 / (diameter_mm / 1e3 * area**2)
    drop = _drop_estimate(n, fr, to, k, supply, base)
    allowed = (P_SUPPLY_BAR**2 - p_min_target_bar**2) * 1e10
    scale = math.sqrt(allowed / drop) if drop > 0 else 1.0
    flows = base * scale

    net = Network(f"synthetic-{n}-s{seed}", gas=gas, temperature_K=TEMPERATURE_K)
    ids = np.array([f"n{i}" for i in range(n)], dtype=object)
    rows, cols = np.divmod(np.arange(n), nx)
    # whole tables at once (add_node per element is fine for users, slow for 10^5 elements)
    net.set_table("node", pd.DataFrame(
        {"x": cols * 1e4, "y": rows * 1e4, "elevation_m": elevation, "p_min_bar": 1.01325, "p_max_bar": 100.0},
        index=pd.Index(ids, name="id")))
    net.set_table("pipe", pd.DataFrame(
        {"from_node": ids[fr], "to_node": ids[to], "length_km": length_km, "diameter_mm": diameter_mm,
         "roughness_mm": roughness_mm, "friction": "colebrook"},
        index=pd.Index([f"p{e}" for e in range(m)], dtype=object, name="id")))
    net.set_table("supply", pd.DataFrame(
        {"node": ids[supply], "mode": "pressure", "p_set_bar": P_SUPPLY_BAR},
        index=pd.Index([f"s{s}" for s in supply], dtype=object, name="id")))
    dem = np.flatnonzero(is_demand)
    net.set_table("demand", pd.DataFrame(
        {"node": ids[dem], "flow_kg_s": flows[dem]},
        index=pd.Index([f"d{i}" for i in dem], dtype=object, name="id")))
    net.meta["synthetic"] = {"seed": seed, "lattice": [ny, nx], "pipes": m, "supplies": len(supply),
                             "demands": int(is_demand.sum()), "total_demand_kg_s": float(flows.sum()),
                             "p_min_target_bar": p_min_target_bar}
    return net


__all__ = ["lattice_shape", "synthetic_network"]
