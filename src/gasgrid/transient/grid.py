"""Space discretisation of a compiled network for transients: the unknown layout and the sparsity pattern.

Contract: :func:`build_grid` turns a :class:`~gasgrid.model.compiled.CompiledNetwork` and a cell length into
an immutable :class:`Grid`. Each pipe of length L is split into ``N = ceil(L / dx)`` equal cells of length
``h = L / N`` on a staggered grid: pressures live at the N + 1 points x_k = k h (the two end points are the
network nodes, shared between the pipes that meet there), mass flows [kg/s] live at the N faces between
points. Every point owns the gas of the segment around it (interior points A h, end points A h / 2, added to
the node they sit on), so summing the mass balances telescopes exactly to the network boundary flows.

Unknowns, in this order: node pressures [Pa], interior pipe-point pressures [Pa], face mass flows [kg/s],
mass flows of the non-pipe arcs [kg/s], injections of the pressure-controlled supplies [kg/s]. The equations
(rows) follow the same order. The sparsity pattern is computed once here and reused for every Newton step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gasgrid.errors import InputError
from gasgrid.linalg.pattern import coo_pattern
from gasgrid.model.compiled import CompiledNetwork

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Pattern:
    """A fixed COO sparsity pattern and its map to compressed-sparse-column storage.

    ``rows``/``cols`` list every (possibly repeated) entry a kernel writes; ``slot[k]`` is the position of
    entry k in the CSC ``data`` array defined by ``indices``/``indptr``.
    """

    n: int
    rows: I64
    cols: I64
    slot: I64
    indices: NDArray[np.int32]
    indptr: NDArray[np.int32]

    @classmethod
    def from_coo(cls, n: int, rows: I64, cols: I64) -> Pattern:
        indptr, indices, slot = coo_pattern(n, rows.astype(np.int64), cols.astype(np.int64))
        return cls(n=n, rows=rows, cols=cols, slot=slot, indices=indices, indptr=indptr)

    @property
    def nnz(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class Grid:
    """Discretisation of every pipe and the layout of unknowns (see module docstring). Arrays are SI."""

    net: CompiledNetwork
    dx_target: float  # m, the requested cell length
    # --- pipes and their cells -------------------------------------------------------------------
    n_cells: I64  # per pipe
    h: F64  # per pipe: cell length, m
    area: F64  # per pipe: cross-section, m^2
    face_start: I64  # per pipe: index of its first face (faces of a pipe are contiguous)
    # --- points (pressure locations) -------------------------------------------------------------
    point_var: I64  # per pipe point (pipe-major), the pressure unknown it uses
    point_start: I64  # per pipe: index of its first point in the point arrays
    # --- faces ----------------------------------------------------------------------------------
    face_pipe: I64
    face_left: I64  # pressure unknown left of the face
    face_right: I64  # pressure unknown right of the face
    face_dz: F64  # elevation rise across the face, m
    # --- storage atoms: (row, pressure unknown, volume, temperature, pipe) --------------------------
    atom_var: I64
    atom_volume: F64  # m^3
    atom_T: F64  # K
    atom_pipe: I64  # the pipe holding the atom's gas, or n_pipes for a pipe-less node's own volume
    # --- non-pipe arcs ----------------------------------------------------------------------------
    other_arcs: I64  # arc indices of the non-pipe arcs, in unknown order
    # --- pressure supplies -------------------------------------------------------------------------
    psupply: I64  # supply indices with a pressure unknown/row
    # --- layout --------------------------------------------------------------------------------------
    n_nodes: int
    n_interior: int
    n_faces: int
    n_other: int
    n_psupply: int
    pattern: Pattern

    @property
    def n(self) -> int:
        return self.n_nodes + self.n_interior + self.n_faces + self.n_other + self.n_psupply

    @property
    def off_interior(self) -> int:
        return self.n_nodes

    @property
    def off_face(self) -> int:
        return self.n_nodes + self.n_interior

    @property
    def off_other(self) -> int:
        return self.off_face + self.n_faces

    @property
    def off_psupply(self) -> int:
        return self.off_other + self.n_other

    @property
    def n_pressure(self) -> int:
        return self.n_nodes + self.n_interior

    def pipe_first_face(self) -> I64:
        """Face index (into the face arrays) at the from end of every pipe."""
        return self.face_start

    def pipe_last_face(self) -> I64:
        """Face index at the to end of every pipe."""
        return self.face_start + self.n_cells - 1

    def point_positions(self, pipe: int) -> F64:
        """Distances of the pressure points of one pipe from its from node, m."""
        return np.arange(self.n_cells[pipe] + 1) * self.h[pipe]


def build_grid(net: CompiledNetwork, dx: float, *, node_volume: float = 1.0) -> Grid:
    """Discretise every pipe of ``net`` into cells of at most ``dx`` metres and lay out the unknowns.

    ``node_volume`` [m^3] is the gas volume given to nodes that no pipe reaches (station pipework between a
    compressor and a valve, say): it keeps their pressure defined when every arc around them closes. Its gas
    counts in the total line pack, not in any pipe's.
    """
    if not (math.isfinite(node_volume) and node_volume >= 0.0):
        raise InputError(f"must be a non-negative volume in m^3, got {node_volume!r}", field="node_volume_m3")
    if not (math.isfinite(dx) and dx > 0.0):
        raise InputError(f"cell length must be a positive number of metres, got {dx!r}", field="dx")
    pb = net.pipe
    n_nodes = net.n_nodes
    pipe_arcs = pb.arc
    length = pb.length
    n_cells = np.maximum(1, np.ceil(length / dx - 1e-9)).astype(np.int64)
    h = length / n_cells
    area = 0.25 * math.pi * pb.diameter**2
    n_pipes = len(pb)
    n_interior = int(np.sum(n_cells - 1))
    n_faces = int(np.sum(n_cells))
    face_start = np.concatenate([[0], np.cumsum(n_cells)[:-1]]).astype(np.int64) if n_pipes else np.zeros(0, np.int64)
    point_start = face_start + np.arange(n_pipes, dtype=np.int64)
    n_points = n_faces + n_pipes
    # per point: pipe, local index k in 0..N
    point_pipe = np.repeat(np.arange(n_pipes, dtype=np.int64), n_cells + 1)
    point_k = np.arange(n_points, dtype=np.int64) - np.repeat(point_start, n_cells + 1)
    n_of_point = n_cells[point_pipe]
    interior = (point_k > 0) & (point_k < n_of_point)
    point_var = np.empty(n_points, dtype=np.int64)
    point_var[interior] = n_nodes + np.arange(n_interior, dtype=np.int64)
    is_from = point_k == 0
    is_to = point_k == n_of_point
    frm = net.arc_from[pipe_arcs]
    to = net.arc_to[pipe_arcs]
    point_var[is_from] = frm[point_pipe[is_from]]
    point_var[is_to] = to[point_pipe[is_to]]
    # faces
    face_pipe = np.repeat(np.arange(n_pipes, dtype=np.int64), n_cells)
    face_local = np.arange(n_faces, dtype=np.int64) - face_start[face_pipe] if n_faces else np.zeros(0, np.int64)
    left_point = point_start[face_pipe] + face_local
    face_left = point_var[left_point]
    face_right = point_var[left_point + 1]
    z = net.elevation
    face_dz = (z[to] - z[frm])[face_pipe] / n_cells[face_pipe]
    # storage atoms: one per point (end points carry half a cell)
    vol = area[point_pipe] * h[point_pipe] * np.where(interior, 1.0, 0.5)
    # pipes out of service or inside closed sections still store gas: they stay in the model but carry
    # no flow (their momentum rows become q = 0) -- see system.py
    atom_var, atom_T, atom_pipe = point_var.copy(), pb.temperature[point_pipe], point_pipe
    bare = np.setdiff1d(np.arange(n_nodes, dtype=np.int64), point_var[~interior])
    if node_volume > 0.0 and bare.size:
        atom_var = np.concatenate([atom_var, bare])
        vol = np.concatenate([vol, np.full(bare.size, float(node_volume))])
        atom_T = np.concatenate([atom_T, np.full(bare.size, float(net.temperature))])
        atom_pipe = np.concatenate([atom_pipe, np.full(bare.size, n_pipes, dtype=np.int64)])
    other = np.flatnonzero(net.arc_kind != 0) if net.n_arcs else np.zeros(0, np.int64)
    _check_arc_kinds(net)
    sb = net.supply
    psupply = np.flatnonzero(sb.fixed_pressure).astype(np.int64)
    grid_wo_pattern = dict(
        net=net,
        dx_target=float(dx),
        n_cells=n_cells,
        h=h,
        area=area,
        face_start=face_start,
        point_var=point_var,
        point_start=point_start,
        face_pipe=face_pipe,
        face_left=face_left,
        face_right=face_right,
        face_dz=face_dz,
        atom_var=atom_var,
        atom_volume=vol,
        atom_T=atom_T,
        atom_pipe=atom_pipe,
        other_arcs=other.astype(np.int64),
        psupply=psupply,
        n_nodes=n_nodes,
        n_interior=n_interior,
        n_faces=n_faces,
        n_other=len(other),
        n_psupply=len(psupply),
    )
    pattern = _pattern(grid_wo_pattern, net)
    return Grid(pattern=pattern, **grid_wo_pattern)  # type: ignore[arg-type]


def _check_arc_kinds(net: CompiledNetwork) -> None:
    from gasgrid.components import ARC_KINDS

    if ARC_KINDS[0] != "pipe":
        raise AssertionError("the transient grid assumes pipes are arc kind 0")
    if len(net.pump):
        from gasgrid.errors import InputError

        raise InputError("pumps with a lift curve are modelled in steady state only; replace them by compressor "
                         "stations for transient runs", kind="pump", element=str(net.arc_ids[net.pump.arc[0]]))


def _pattern(g: dict, net: CompiledNetwork) -> Pattern:
    """Every (row, column) pair any kernel may write, whatever the arcs' modes over time."""
    n_nodes, n_int, n_faces = g["n_nodes"], g["n_interior"], g["n_faces"]
    off_face = n_nodes + n_int
    off_other = off_face + n_faces
    n_other = g["n_other"]
    off_ps = off_other + n_other
    n = off_ps + g["n_psupply"]
    rows: list[I64] = []
    cols: list[I64] = []
    # storage diagonal of every pressure row
    rows.append(g["atom_var"])
    cols.append(g["atom_var"])
    # face flows enter the mass balance of their left (-) and right (+) points
    f = np.arange(n_faces, dtype=np.int64) + off_face
    rows += [g["face_left"], g["face_right"]]
    cols += [f, f]
    # momentum rows: left/right pressure and own flow
    rows += [f, f, f]
    cols += [g["face_left"], g["face_right"], f]
    # non-pipe arcs: mass balance at both ends, and the arc row in p_from, p_to, q
    a = np.arange(n_other, dtype=np.int64) + off_other
    oa = g["other_arcs"]
    fr = net.arc_from[oa]
    to = net.arc_to[oa]
    rows += [fr, to, a, a, a]
    cols += [a, a, fr, to, a]
    # pressure supplies: injection enters the node balance; the row ties node pressure or injection
    s = np.arange(g["n_psupply"], dtype=np.int64) + off_ps
    sn = net.supply.node[g["psupply"]]
    rows += [sn, s, s]
    cols += [s, sn, s]
    # every pressure row has its diagonal even without storage (nodes between compressors)
    diag = np.arange(n, dtype=np.int64)
    rows.append(diag)
    cols.append(diag)
    return Pattern.from_coo(n, np.concatenate(rows), np.concatenate(cols))
