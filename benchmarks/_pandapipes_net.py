"""A gasgrid network and its pandapipes equivalent with matched physics, for the side-by-side benchmark.

Contract: :func:`matched_pair` returns (a) a copy of the gasgrid network with the physics both tools share and
(b) a pandapipes net built directly from that copy's tables, plus the notes that say what was changed. Both
then describe the same hydraulic problem; what remains different is listed in :data:`RESIDUAL_DIFFERENCES`.

Physics matched:
- gas: ideal (Z = 1) in both. pandapipes' gas law uses R_s = p_n / (T_n rho_n), so the fluid's normal density
  is set to p_n M / (R T_n) from gasgrid's molar mass (not GasLib's stated normDensity). Constant viscosity.
- temperature: the network temperature at every junction and ext_grid (hydraulics mode, isothermal).
- friction: Colebrook-White in both (pandapipes ``friction_model="colebrook"`` with its inner tolerance
  tightened to 1e-10); GasLib and the synthetic nets use Colebrook everywhere (other laws raise).
- pressures: pandapipes' are gauge against the barometric ambient pressure at the junction height
  (:func:`gasgrid.io.pandapipes_io.p_atm_bar`); the ext_grids get p_set - p_atm(h) and results are compared
  as absolute pressures.
- resistors with a drag factor: pandapipes valves with the same loss coefficient and diameter (both use
  p_i^2 - p_j^2 = zeta Z R T q|q| / A^2). Resistors with a fixed pressure drop have no pandapipes
  counterpart: they become short pipes in the gasgrid copy too (noted).
- zero-loss arcs (short pipes, open valves, open control valves, bypassed compressors): gasgrid contracts
  them; pandapipes' Jacobian is singular on loops of its zero-length valves, so each becomes a 1 m pipe of
  1.5 m diameter and 0.001 mm roughness (pressure loss < 1e-4 bar at GasLib flows) - or, with
  ``zero_loss="valve"``, an open pandapipes valve (singular where such elements form loops).
- closed valves, closed control valves, compressors ``off`` and out-of-service elements are left out.
- demands: pandapipes sinks (negative demands, which GasLib uses for injections, become sources);
  fixed-flow supplies: sources; pressure supplies: ext_grids of type "p".
Active elements in a controlling mode (set points) are not translated: the benchmark runs them passive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from gasgrid import Network
from gasgrid.gas import EOS
from gasgrid.io.pandapipes_io import p_atm_bar
from gasgrid.units import R_UNIVERSAL

P_NORMAL = 101_325.0
T_NORMAL = 273.15
ZERO_LOSS_LENGTH_KM = 1e-3
ZERO_LOSS_DIAMETER_M = 1.5
ZERO_LOSS_ROUGHNESS_MM = 1e-3

RESIDUAL_DIFFERENCES = (
    "elevation: gasgrid integrates the hydrostatic term exactly (exponential in c^2); pandapipes uses the mean of "
    "the end densities times g dh (g = 9.81 vs 9.80665)",
    "laminar regime: gasgrid uses a smooth max of Colebrook and 64/Re; pandapipes' Colebrook has no laminar "
    "branch (only stagnant pipes are affected)",
    "zero-loss arcs: 1 m x 1.5 m pipes in pandapipes",
)


@dataclass
class PandapipesEquivalent:
    """A pandapipes net, the junction index of every gasgrid node, and notes on what was changed."""

    net: Any
    junction: pd.Series  # gasgrid node id -> pandapipes junction index
    height_m: pd.Series  # gasgrid node id -> elevation, m
    notes: list[str] = field(default_factory=list)


def passive_ideal_copy(network: Network) -> tuple[Network, list[str]]:
    """A copy with an ideal gas, every active element passive, and fixed-drop resistors as short pipes."""
    net = network.copy()
    notes: list[str] = []
    if net.gas.eos is not EOS.IDEAL:
        notes.append(f"gas: {net.gas.eos.value} -> ideal in both tools")
    net.gas = replace(net.gas, eos=EOS.IDEAL)
    laws = set(net.pipes["friction"].unique())
    if laws - {"colebrook"}:
        raise ValueError(f"only Colebrook pipes are matched with pandapipes, got {sorted(laws)}")
    cs = net.compressors
    active = cs.index[~cs["mode"].isin(["bypass", "off"])]
    if len(active):
        cs = cs.copy()
        cs.loc[active, "mode"] = "bypass"
        net.set_table("compressor", cs)
        notes.append(f"{len(active)} compressor(s) set to bypass")
    cv = net.control_valves
    active = cv.index[cv["mode"] == "set_point"]
    if len(active):
        cv = cv.copy()
        cv.loc[active, "mode"] = "open"
        net.set_table("control_valve", cv)
        notes.append(f"{len(active)} control valve(s) set to open")
    res = net.resistors
    fixed = res.index[~(np.isfinite(res["drag_factor"]) & np.isfinite(res["diameter_mm"]))]
    if len(fixed):
        sp = net.short_pipes
        add = res.loc[fixed, ["from_node", "to_node", "in_service"]]
        net.set_table("short_pipe", pd.concat([sp, add]) if len(sp) else add)
        net.set_table("resistor", res.drop(index=fixed))
        notes.append(f"{len(fixed)} fixed-drop resistor(s) -> short pipes in both tools")
    return net, notes


def _zero_loss_arcs(net: Network) -> pd.DataFrame:
    """from/to of every in-service arc without pressure loss (after :func:`passive_ideal_copy`)."""
    parts = [net.short_pipes[["from_node", "to_node", "in_service"]]]
    v = net.valves
    parts.append(v.loc[v["open"], ["from_node", "to_node", "in_service"]])
    cv = net.control_valves
    parts.append(cv.loc[cv["mode"] == "open", ["from_node", "to_node", "in_service"]])
    cs = net.compressors
    parts.append(cs.loc[cs["mode"] == "bypass", ["from_node", "to_node", "in_service"]])
    if len(net.check_valves):
        raise ValueError("check valves have no pandapipes counterpart")
    frame = pd.concat([p for p in parts if len(p)]) if any(len(p) for p in parts) else parts[0]
    return frame[frame["in_service"].astype(bool)]


def to_pandapipes_equivalent(net: Network, *, zero_loss: str = "pipe") -> PandapipesEquivalent:
    """The pandapipes net of a network prepared by :func:`passive_ideal_copy` (see the module docstring)."""
    import pandapipes
    from pandapipes.properties.fluids import Fluid, FluidPropertyConstant, _add_fluid_to_net

    if zero_loss not in ("pipe", "valve"):
        raise ValueError(f"zero_loss must be 'pipe' or 'valve', got {zero_loss!r}")
    if net.gas.eos is not EOS.IDEAL:
        raise ValueError("call passive_ideal_copy first: pandapipes is matched with an ideal gas")
    T = net.temperature_K
    notes: list[str] = []
    rho_n = P_NORMAL * net.gas.molar_mass / (R_UNIVERSAL * T_NORMAL)
    fluid = Fluid(name="gasgrid-ideal", fluid_type="gas",
                  density=FluidPropertyConstant(rho_n), viscosity=FluidPropertyConstant(net.gas.viscosity),
                  heat_capacity=FluidPropertyConstant(2.16e3), compressibility=FluidPropertyConstant(1.0),
                  der_compressibility=FluidPropertyConstant(0.0),
                  molar_mass=FluidPropertyConstant(net.gas.molar_mass * 1e3))
    pp = pandapipes.create_empty_network(name=net.name, add_stdtypes=False)
    _add_fluid_to_net(pp, fluid, overwrite=True)

    nodes = net.nodes
    height = nodes["elevation_m"].astype(float)
    sup = net.supplies[net.supplies["in_service"].astype(bool)]
    fixed_p = sup[sup["mode"] == "pressure"]
    if fixed_p.empty:
        raise ValueError("no pressure supply")
    p_guess = float(fixed_p["p_set_bar"].max() - p_atm_bar(0.0))
    jidx = pandapipes.create_junctions(pp, len(nodes), pn_bar=p_guess, tfluid_k=T, height_m=height.to_numpy(),
                                       name=nodes.index.to_numpy())
    junction = pd.Series(np.asarray(jidx), index=nodes.index)

    pipes = net.pipes[net.pipes["in_service"].astype(bool)]
    pipe_T = pipes["temperature_K"].astype(float)
    if np.any(np.isfinite(pipe_T) & (pipe_T != T)) or np.any(pipes["efficiency"] != 1.0):
        raise ValueError("pipe temperatures other than the network's and pipe efficiencies are not matched")
    if len(pipes):
        pandapipes.create_pipes_from_parameters(
            pp, junction[pipes["from_node"]].to_numpy(), junction[pipes["to_node"]].to_numpy(),
            length_km=pipes["length_km"].to_numpy(float), inner_diameter_mm=pipes["diameter_mm"].to_numpy(float),
            k_mm=pipes["roughness_mm"].to_numpy(float), name=pipes.index.to_numpy())

    res = net.resistors[net.resistors["in_service"].astype(bool)]
    if len(res):
        pandapipes.create_valves(
            pp, junction[res["from_node"]].to_numpy(), junction[res["to_node"]].to_numpy(), et="ju",
            inner_diameter_mm=res["diameter_mm"].to_numpy(float), opened=True,
            loss_coefficient=res["drag_factor"].to_numpy(float), name=res.index.to_numpy())
        notes.append(f"{len(res)} drag resistor(s) -> pandapipes valves with the same loss coefficient")

    zl = _zero_loss_arcs(net)
    if len(zl):
        fj, tj = junction[zl["from_node"]].to_numpy(), junction[zl["to_node"]].to_numpy()
        if zero_loss == "pipe":
            pandapipes.create_pipes_from_parameters(
                pp, fj, tj, length_km=ZERO_LOSS_LENGTH_KM, inner_diameter_mm=ZERO_LOSS_DIAMETER_M * 1e3,
                k_mm=ZERO_LOSS_ROUGHNESS_MM, name=zl.index.to_numpy())
            notes.append(f"{len(zl)} zero-loss arc(s) -> 1 m x 1.5 m pipes")
        else:
            pandapipes.create_valves(pp, fj, tj, et="ju", inner_diameter_mm=ZERO_LOSS_DIAMETER_M * 1e3, opened=True,
                                     loss_coefficient=0.0, name=zl.index.to_numpy())
            notes.append(f"{len(zl)} zero-loss arc(s) -> open pandapipes valves")

    gauge = fixed_p["p_set_bar"].to_numpy(float) - p_atm_bar(height[fixed_p["node"]].to_numpy())
    pandapipes.create_ext_grids(pp, junction[fixed_p["node"]].to_numpy(), p_bar=gauge, t_k=np.full(len(gauge), np.nan), type="p",
                                name=fixed_p.index.to_numpy())
    inj = sup[sup["mode"] == "flow"]
    dem = net.demands[net.demands["in_service"].astype(bool)]
    # one net withdrawal per node: fewer elements, same physics
    w = pd.concat([dem.groupby("node")["flow_kg_s"].sum(), -inj.groupby("node")["flow_kg_s"].sum()])
    w = w.groupby(level=0).sum()
    w = w[w != 0.0]
    out, into = w[w > 0], -w[w < 0]
    if len(out):
        pandapipes.create_sinks(pp, junction[out.index].to_numpy(), mdot_kg_per_s=out.to_numpy(float))
    if len(into):
        pandapipes.create_sources(pp, junction[into.index].to_numpy(), mdot_kg_per_s=into.to_numpy(float))
    return PandapipesEquivalent(pp, junction, height, notes)


def matched_pair(network: Network, *, zero_loss: str = "pipe") -> tuple[Network, PandapipesEquivalent]:
    """(gasgrid copy, pandapipes equivalent) with matched physics; notes of both steps on the latter."""
    net, notes = passive_ideal_copy(network)
    eq = to_pandapipes_equivalent(net, zero_loss=zero_loss)
    eq.notes[:0] = notes
    return net, eq


PIPEFLOW_OPTIONS: dict[str, Any] = {
    "mode": "hydraulics", "friction_model": "colebrook", "tolerance_colebrook": 1e-10,
    "max_iter_colebrook": 100, "max_iter_hyd": 100, "tol_p": 1e-6, "tol_m": 1e-6, "tol_res": 1e-6,
    "use_numba": False,  # pandapipes picks numba up when installed; its numba Colebrook diverges on GasLib-582
}


def run_pipeflow(eq: PandapipesEquivalent, **overrides: Any) -> dict[str, Any]:
    """Run ``pandapipes.pipeflow``; returns converged, iterations and absolute node pressures [bar] (or error)."""
    import pandapipes
    from pandapipes.pf.pipeflow_setup import PipeflowNotConverged

    opts = {**PIPEFLOW_OPTIONS, **overrides}
    try:
        pandapipes.pipeflow(eq.net, **opts)
    except PipeflowNotConverged as exc:
        return {"converged": False, "error": str(exc) or type(exc).__name__,
                "iterations": _iterations(eq.net), "p_bar": None}
    except (np.linalg.LinAlgError, RuntimeError, ValueError, FloatingPointError) as exc:
        return {"converged": False, "error": f"{type(exc).__name__}: {exc}", "iterations": _iterations(eq.net),
                "p_bar": None}
    res = eq.net.res_junction["p_bar"]
    p_abs = res.loc[eq.junction.to_numpy()].to_numpy(float) + p_atm_bar(eq.height_m.to_numpy())
    return {"converged": bool(eq.net.converged), "error": None, "iterations": _iterations(eq.net),
            "p_bar": pd.Series(p_abs, index=eq.junction.index)}


def _iterations(pp: Any) -> int | None:
    it = pp.get("_internal_results", {}).get("iterations_hydraulics")
    return None if it is None or (isinstance(it, float) and math.isnan(it)) else int(it)


__all__ = ["PIPEFLOW_OPTIONS", "RESIDUAL_DIFFERENCES", "PandapipesEquivalent", "matched_pair",
           "passive_ideal_copy", "run_pipeflow", "to_pandapipes_equivalent"]
