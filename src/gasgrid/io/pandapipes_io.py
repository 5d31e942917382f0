"""pandapipes conversion (optional extra): gas networks to and from pandapipes, for the kinds both model.

Contract: :func:`from_pandapipes` and :func:`to_pandapipes` never drop anything silently: what has no
counterpart is listed, one line per element, in ``net.meta["pandapipes"]["unmapped"]`` respectively
:attr:`PandapipesExport.unmapped` (or raised as an :class:`InputError` with ``strict=True``). pandapipes is
imported inside the functions; without it they raise :class:`MissingExtraError`.

Mapping (pandapipes ↔ gasgrid):

- ``junction`` ↔ node: ``height_m`` ↔ ``elevation_m``, geodata ``x``/``y`` ↔ ``x``/``y`` (crs None). Ids are the
  junction names when unique, else ``j<index>``. Pressures: pandapipes' are gauge against the barometric
  ambient pressure at the junction's height, ``p_atm(h) = 1.01325 (1 − 0.0065 h / 288.15)^5.255`` bar
  (pandapipes' ``p_correction_height_air``); gasgrid's are absolute.
- ``pipe`` ↔ pipe: ``length_km``, ``inner_diameter_mm`` ↔ ``diameter_mm``, ``k_mm`` ↔ ``roughness_mm``,
  ``u_w_per_m2k`` ↔ ``heat_transfer_W_m2K``; the friction law is the ``friction=`` argument (pandapipes
  stores it only as a pipeflow option: ``user_pf_options["friction_model"]`` is used when present, else
  pandapipes' default ``"nikuradse"``). A pipe ``loss_coefficient`` ζ > 0 becomes a resistor (drag ζ, pipe
  diameter) in series at the pipe's outlet, through an extra node ``<pipe id>.loss``.
- ``valve`` ↔ valve (``opened`` ↔ ``open``); an open valve with ``loss_coefficient`` > 0 becomes a resistor.
- ``ext_grid`` of type ``p``/``pt`` ↔ supply ``mode="pressure"``; ``source`` ↔ supply ``mode="flow"``;
  ``sink`` ↔ demand (``mdot_kg_per_s · scaling``).
- ``compressor`` ↔ compressor ``mode="ratio"`` (``pressure_ratio``); ``bypass`` ↔ open valve; ``off`` → closed
  valve.
- ``press_control`` whose controlled junction is its outlet ↔ control valve ``mode="set_point"``.
- Fluid ↔ gas: pandapipes' ``density`` is the normal density (0 °C, 1.01325 bar) of an ideal gas, so the
  molar mass is ``ρ_n R T_n / p_n``. Compressibility 1 → ideal gas. pandapipes' linear law
  ``Z = 1 + s p[bar]`` (the STANET cases use s = −0.0022) → Papay with ``pc`` = 200 bar and ``Tc`` chosen so
  that dZ/dp at p = 0 equals s (the quadratic remainder is ≤ 0.25 (s p)²); other laws → Papay from the
  normal density (both listed as approximations). Export writes gasgrid's tangent ``Z = 1 + (dZ/dp)(0) p`` as
  pandapipes' linear law. The temperature is the ext_grids' ``t_k`` (all equal), else the mean junction
  ``tfluid_k``.

Pumps map to gasgrid pumps (polynomial lift curves of degree <= 2; not exported back). Not mapped: flow
controls, heat exchangers, heat consumers, circulation pumps, mass storages, ``ext_grid`` of type ``t``,
pressure controls of a junction other than their outlet; gasgrid resistors with a fixed pressure drop, pipe
efficiencies and classic flow equations, demand priorities; check valves (exported as open valves).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gasgrid.errors import InputError, MissingExtraError
from gasgrid.gas import EOS, Gas
from gasgrid.io.atomic import atomic_path
from gasgrid.model.network import Network
from gasgrid.units import R_UNIVERSAL, Reference

__all__ = ["PandapipesExport", "from_pandapipes", "p_atm_bar", "read_pandapipes_json", "to_pandapipes",
           "write_pandapipes_json"]

_FRICTION = {"nikuradse": "nikuradse", "colebrook": "colebrook", "swamee-jain": "swamee_jain",
             "swamee_jain": "swamee_jain"}
_UNSUPPORTED = ("flow_control", "heat_exchanger", "heat_consumer", "circ_pump_mass", "circ_pump_pressure",
                "mass_storage")


def _pandapipes() -> Any:
    try:
        import pandapipes
    except ImportError as exc:
        raise MissingExtraError("pandapipes", "bench", "pandapipes conversion") from exc
    return pandapipes


def p_atm_bar(height_m: Any) -> Any:
    """pandapipes' ambient pressure at a height (barometric formula), bar; gauge + this = absolute."""
    return 1.01325 * np.power(1.0 - np.asarray(height_m, dtype=float) * 0.0065 / 288.15, 5.255)


# --- pandapipes -> gasgrid ---------------------------------------------------------------------------------
def from_pandapipes(ppnet: Any, *, friction: str | None = None, name: str | None = None,
                    strict: bool = False) -> Network:
    """A gasgrid :class:`Network` from a pandapipes gas network (see the module docstring for the mapping).

    Args:
        ppnet: a ``pandapipesNet`` with a gas fluid.
        friction: ``"nikuradse"``, ``"colebrook"`` or ``"swamee-jain"``; default the net's
            ``user_pf_options["friction_model"]``, else pandapipes' default ``"nikuradse"``.
        name: network name (default the pandapipes net's name).
        strict: raise :class:`InputError` if anything cannot be mapped instead of listing it in
            ``net.meta["pandapipes"]["unmapped"]``.
    """
    _pandapipes()
    law = friction or (getattr(ppnet, "user_pf_options", None) or {}).get("friction_model", "nikuradse")
    if law not in _FRICTION:
        raise InputError(f"unknown friction model {law!r}; allowed: {sorted(_FRICTION)}", field="friction")
    unmapped: list[str] = []
    junctions = _table(ppnet, "junction")
    ext = _table(ppnet, "ext_grid")
    temps = ext["t_k"].dropna().unique() if "t_k" in ext else []
    T = float(temps[0]) if len(temps) == 1 else float(junctions["tfluid_k"].mean()) if len(junctions) else 288.15
    gas, approx = _gas_from_fluid(ppnet, T)
    if approx:
        unmapped.append(approx)
    net = Network(name or str(getattr(ppnet, "name", "") or "pandapipes"), gas=gas, temperature_K=T)
    jid = _ids(junctions, "j")
    geo = _table(ppnet, "junction_geodata")
    height = junctions["height_m"].astype(float) if "height_m" in junctions else pd.Series(0.0, junctions.index)
    for idx, row in junctions.iterrows():
        xy = geo.loc[idx] if idx in geo.index else None
        net.add_node(jid[idx], elevation_m=float(height[idx]), name=_text(row.get("name")),
                     x=float(xy["x"]) if xy is not None else math.nan,
                     y=float(xy["y"]) if xy is not None else math.nan, source="pandapipes")
    _pipes(ppnet, net, jid, _FRICTION[law], unmapped)
    _valves(ppnet, net, jid, unmapped)
    for idx, row in ext.iterrows():
        if str(row.get("type", "pt")).lower() not in ("p", "pt", "auto"):
            unmapped.append(f"ext_grid {idx}: type {row.get('type')!r} fixes no pressure")
            continue
        j = int(row["junction"])
        net.add_supply(f"ext_grid_{idx}", jid[j], mode="pressure", in_service=bool(row.get("in_service", True)),
                       p_set_bar=float(row["p_bar"]) + float(p_atm_bar(height[j])), name=_text(row.get("name")),
                       source="pandapipes")
    for kind, add in (("source", "supply"), ("sink", "demand")):
        for idx, row in _table(ppnet, kind).iterrows():
            flow = float(row["mdot_kg_per_s"]) * float(row.get("scaling", 1.0))
            values = {"mode": "flow"} if add == "supply" else {}
            net.add(add, f"{kind}_{idx}", node=jid[int(row["junction"])], flow_kg_s=flow,
                    in_service=bool(row.get("in_service", True)), name=_text(row.get("name")), source="pandapipes",
                    **values)
    for idx, row in _table(ppnet, "compressor").iterrows():
        net.add_compressor(f"compressor_{idx}", jid[int(row["from_junction"])], jid[int(row["to_junction"])],
                           mode="ratio", ratio=float(row["pressure_ratio"]), name=_text(row.get("name")),
                           in_service=bool(row.get("in_service", True)), source="pandapipes")
    _pumps(ppnet, net, jid, unmapped)
    for idx, row in _table(ppnet, "press_control").iterrows():
        if int(row["controlled_junction"]) != int(row["to_junction"]):
            unmapped.append(f"press_control {idx}: controls junction {row['controlled_junction']}, not its outlet")
            continue
        to = int(row["to_junction"])
        active = bool(row.get("control_active", True))
        net.add_control_valve(f"press_control_{idx}", jid[int(row["from_junction"])], jid[to],
                              mode="set_point" if active else "open",
                              p_set_bar=float(row["controlled_p_bar"]) + float(p_atm_bar(height[to])),
                              in_service=bool(row.get("in_service", True)), source="pandapipes")
    for kind in _UNSUPPORTED:
        for idx in _table(ppnet, kind).index:
            unmapped.append(f"{kind} {idx}: no gasgrid counterpart")
    if strict and unmapped:
        raise InputError("cannot map from pandapipes: " + "; ".join(unmapped))
    net.meta["pandapipes"] = {"friction_model": law, "junction_ids": {str(k): v for k, v in jid.items()},
                              "unmapped": unmapped}
    net.validate()
    return net


def _pumps(ppnet: Any, net: Network, jid: dict[int, str], unmapped: list[str]) -> None:
    """pandapipes pumps -> gasgrid pumps: lift [bar] = polyval(reg_par, Q [m^3/h at the inlet])."""
    std = getattr(ppnet, "std_types", {}).get("pump", {})
    for idx, row in _table(ppnet, "pump").iterrows():
        st = std.get(row.get("std_type"))
        reg = np.asarray(getattr(st, "reg_par", []), dtype=float)
        if st is None or reg.size == 0 or reg.size > 3:
            unmapped.append(f"pump {idx}: std_type {row.get('std_type')!r} is not a polynomial of degree <= 2")
            continue
        c = np.zeros(3)
        c[: reg.size] = reg[::-1]  # polyval order (highest first) -> c0, c1, c2
        net.add_pump(f"pump_{idx}", jid[int(row["from_junction"])], jid[int(row["to_junction"])],
                     lift_c0_bar=float(c[0]), lift_c1_bar_h_m3=float(c[1]), lift_c2_bar_h2_m6=float(c[2]),
                     in_service=bool(row.get("in_service", True)), name=_text(row.get("name")), source="pandapipes")


def _pipes(ppnet: Any, net: Network, jid: dict[int, str], law: str, unmapped: list[str]) -> None:
    pipes = _table(ppnet, "pipe")
    pid = _ids(pipes, "pipe_")
    for idx, row in pipes.iterrows():
        fr, to = jid[int(row["from_junction"])], jid[int(row["to_junction"])]
        zeta = float(row.get("loss_coefficient", 0.0) or 0.0)
        diameter = float(row["inner_diameter_mm"])
        end = to
        if zeta > 0:  # pandapipes adds ζ to the pipe's λL/D; gasgrid needs a resistor in series
            end = f"{pid[idx]}.loss"
            node = net.table("node").loc[to]
            net.add_node(end, elevation_m=float(node["elevation_m"]), x=float(node["x"]), y=float(node["y"]),
                         source="pandapipes")
            net.add_resistor(f"{pid[idx]}.loss", end, to, drag_factor=zeta, diameter_mm=diameter,
                             in_service=bool(row.get("in_service", True)), source="pandapipes")
        u = float(row.get("u_w_per_m2k", 0.0) or 0.0)
        net.add_pipe(pid[idx], fr, end, length_km=float(row["length_km"]), diameter_mm=diameter,
                     roughness_mm=float(row["k_mm"]), friction=law, heat_transfer_W_m2K=u if u > 0 else math.nan,
                     in_service=bool(row.get("in_service", True)), name=_text(row.get("name")), source="pandapipes")
        if int(row.get("sections", 1) or 1) != 1:
            unmapped.append(f"pipe {idx}: sections={row['sections']} (gasgrid pipes are not subdivided)")


def _valves(ppnet: Any, net: Network, jid: dict[int, str], unmapped: list[str]) -> None:
    valves = _table(ppnet, "valve")
    vid = _ids(valves, "valve_")
    for idx, row in valves.iterrows():
        if str(row.get("et", "ju")) != "ju":
            unmapped.append(f"valve {idx}: element type {row.get('et')!r}")
            continue
        fr, to = jid[int(row["junction"])], jid[int(row["element"])]
        zeta = float(row.get("loss_coefficient", 0.0) or 0.0)
        common = {"in_service": bool(row.get("in_service", True)), "name": _text(row.get("name")),
                  "source": "pandapipes"}
        if zeta > 0 and bool(row["opened"]):
            net.add_resistor(vid[idx], fr, to, drag_factor=zeta, diameter_mm=float(row["inner_diameter_mm"]),
                             **common)
        else:
            net.add_valve(vid[idx], fr, to, open=bool(row["opened"]), **common)


def _gas_from_fluid(ppnet: Any, T: float) -> tuple[Gas, str | None]:
    pandapipes = _pandapipes()
    fluid = pandapipes.get_fluid(ppnet)
    if not fluid.is_gas:
        raise InputError(f"the pandapipes net carries a liquid ({fluid.name!r}); gasgrid models gas networks")
    props = fluid.all_properties
    rho_n = float(np.asarray(fluid.get_density(Reference.NORMAL.T)).ravel()[0])
    mu = float(np.asarray(fluid.get_viscosity(Reference.NORMAL.T)).ravel()[0]) if "viscosity" in props else 1.1e-5
    # pandapipes' density is the normal density of an ideal gas: M = rho_n R T_n / p_n (no Z correction)
    molar = rho_n * R_UNIVERSAL * Reference.NORMAL.T / Reference.NORMAL.p
    comp = props.get("compressibility")
    kind = type(comp).__name__
    z0 = float(np.asarray(fluid.get_compressibility(0.0)).ravel()[0]) if comp is not None else 1.0
    z1 = float(np.asarray(fluid.get_compressibility(1.0)).ravel()[0]) if comp is not None else 1.0
    if comp is None or (kind == "FluidPropertyConstant" and z0 == 1.0):
        return Gas.from_properties(molar_mass=molar, normal_density=rho_n, eos=EOS.IDEAL, viscosity=mu,
                                   name=str(fluid.name)), None
    slope = z1 - z0  # per bar (absolute), exact for pandapipes' linear law Z = 1 + slope p
    if kind == "FluidPropertyLinear" and z0 == 1.0 and -0.0176 < slope < 0.0:
        # Papay, Z ≈ 1 − 3.52 e^(−2.26 T/Tc) p/pc + 0.274 e^(−1.878 T/Tc) (p/pc)², with pc at gasgrid's
        # upper limit and Tc such that dZ/dp(0) = slope: the quadratic term then stays ≤ 0.25 (slope p)²
        pc = 2e7
        Tc = -2.26 * T / math.log(-slope * (pc / 1e5) / 3.52)
        if 5.0 <= Tc <= 700.0:
            gas = Gas.from_properties(molar_mass=molar, normal_density=rho_n, eos=EOS.PAPAY, pc=pc, Tc=Tc,
                                      viscosity=mu, name=str(fluid.name))
            return gas, (f"fluid {fluid.name!r}: Z = 1 {slope:+g} p[bar] approximated by Papay with the same "
                         f"slope at p = 0 (pc = 200 bar, Tc = {Tc:.4g} K)")
    gas = Gas.from_properties(molar_mass=molar, normal_density=rho_n, eos=EOS.PAPAY, viscosity=mu,
                              name=str(fluid.name))
    return gas, f"fluid {fluid.name!r}: its {kind} compressibility is approximated by Papay (Sutton pc, Tc)"


def _table(ppnet: Any, kind: str) -> pd.DataFrame:
    try:
        frame = ppnet[kind]
    except (KeyError, AttributeError):
        return pd.DataFrame()
    return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()


def _ids(frame: pd.DataFrame, prefix: str) -> dict[int, str]:
    names = frame["name"] if "name" in frame else pd.Series(None, index=frame.index, dtype=object)
    usable = names.notna().all() and names.astype(str).str.len().gt(0).all() and not names.duplicated().any()
    return {int(i): (str(names[i]) if usable else f"{prefix}{i}") for i in frame.index}


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def read_pandapipes_json(path: str | Path, *, friction: str | None = None, strict: bool = False) -> Network:
    """Read a pandapipes JSON file (``pandapipes.to_json``) and convert it with :func:`from_pandapipes`."""
    pandapipes = _pandapipes()
    p = Path(path)
    try:
        ppnet = pandapipes.from_json(str(p))
    except FileNotFoundError as exc:
        raise InputError("no such file", source=str(p)) from exc
    except Exception as exc:  # pandapipes raises anything from json, pandas or its own checks
        raise InputError(f"not a readable pandapipes JSON file: {type(exc).__name__}: {exc}", source=str(p)) from exc
    try:
        return from_pandapipes(ppnet, friction=friction, strict=strict, name=p.stem)
    except InputError as exc:
        raise InputError(str(exc), source=str(p)) from exc


# --- gasgrid -> pandapipes ---------------------------------------------------------------------------------
@dataclass
class PandapipesExport:
    """A converted pandapipes net and what could not be mapped (one line per element)."""

    net: Any
    unmapped: list[str] = field(default_factory=list)
    junction_index: dict[str, int] = field(default_factory=dict)


def to_pandapipes(network: Network, *, strict: bool = False) -> PandapipesExport:
    """A pandapipes net of ``network`` (see the module docstring for the mapping).

    The gas becomes a fluid with its normal density and viscosity and, for a real gas, pandapipes' linear
    compressibility with gasgrid's slope dZ/dp at p = 0 (listed as an approximation). pandapipes takes one
    friction model for the whole net (``user_pf_options["friction_model"]``): the most common law among the
    pipes; other laws are listed.
    """
    pandapipes = _pandapipes()
    from pandapipes.properties.fluids import (
        Fluid,
        FluidPropertyConstant,
        FluidPropertyLinear,
        _add_fluid_to_net,
    )

    unmapped: list[str] = []
    gas, T = network.gas, network.temperature_K
    slope = float(gas.dz_dp(0.0, T)) * 1e5  # per bar; pandapipes' gas law is Z = 1 + slope p[bar]
    props = {"density": FluidPropertyConstant(gas.reference_density(Reference.NORMAL)),
             "viscosity": FluidPropertyConstant(gas.viscosity), "heat_capacity": FluidPropertyConstant(2.16e3),
             "compressibility": FluidPropertyLinear(slope, 1.0) if slope else FluidPropertyConstant(1.0),
             "der_compressibility": FluidPropertyConstant(slope)}
    fluid = Fluid(name=gas.name, fluid_type="gas", **props)
    if gas.eos is not EOS.IDEAL:
        unmapped.append(f"gas equation of state {gas.eos.value!r}: pandapipes uses its tangent at p = 0, "
                        f"Z = 1 {slope:+.4g} p[bar]")
    pp = pandapipes.create_empty_network(name=network.name)
    _add_fluid_to_net(pp, fluid, overwrite=True)
    nodes = network.table("node")
    j: dict[str, int] = {}
    for nid, row in nodes.iterrows():
        p_guess = float(row["p_max_bar"]) if math.isfinite(row["p_max_bar"]) else 1.0
        geo = (float(row["x"]), float(row["y"])) if math.isfinite(row["x"]) and math.isfinite(row["y"]) else None
        j[str(nid)] = pandapipes.create_junction(pp, pn_bar=p_guess, tfluid_k=T, height_m=float(row["elevation_m"]),
                                                 name=str(nid), geodata=geo)
    height = nodes["elevation_m"].astype(float)
    _export_pipes(pandapipes, pp, network, j, unmapped)
    _export_active(pandapipes, pp, network, j, height, unmapped)
    s = network.table("supply")
    for sid, row in s.iterrows():
        if row["mode"] == "pressure":
            p_gauge = float(row["p_set_bar"] - p_atm_bar(height[row["node"]]))
            pandapipes.create_ext_grid(pp, j[row["node"]], p_bar=p_gauge, t_k=T, type="pt", name=str(sid),
                                       in_service=bool(row["in_service"]))
        else:
            pandapipes.create_source(pp, j[row["node"]], mdot_kg_per_s=float(row["flow_kg_s"]), name=str(sid),
                                     in_service=bool(row["in_service"]))
    for did, row in network.table("demand").iterrows():
        pandapipes.create_sink(pp, j[row["node"]], mdot_kg_per_s=float(row["flow_kg_s"]), name=str(did),
                               in_service=bool(row["in_service"]))
        if row["priority"] != 1:
            unmapped.append(f"demand {did}: priority {row['priority']}")
    if strict and unmapped:
        raise InputError("cannot map to pandapipes: " + "; ".join(unmapped))
    return PandapipesExport(pp, unmapped, j)


def _export_pipes(pandapipes: Any, pp: Any, network: Network, j: dict[str, int], unmapped: list[str]) -> None:
    pipes = network.table("pipe")
    laws = pipes["friction"].value_counts()
    law = str(laws.index[0]) if len(laws) else "colebrook"
    pp_law = {"swamee_jain": "swamee-jain"}.get(law, law)
    if pp_law not in ("nikuradse", "colebrook", "swamee-jain"):
        unmapped.append(f"friction law {law!r}: pandapipes has none; colebrook used")
        pp_law = "colebrook"
    pandapipes.set_user_pf_options(pp, friction_model=pp_law)
    for pid, row in pipes.iterrows():
        if row["friction"] != law:
            unmapped.append(f"pipe {pid}: friction {row['friction']!r} (the net uses {pp_law!r})")
        if row["efficiency"] != 1.0:
            unmapped.append(f"pipe {pid}: efficiency {row['efficiency']}")
        u = float(row["heat_transfer_W_m2K"])
        pandapipes.create_pipe_from_parameters(
            pp, j[row["from_node"]], j[row["to_node"]], length_km=float(row["length_km"]),
            diameter_m=float(row["diameter_mm"]) / 1e3, k_mm=float(row["roughness_mm"]),
            u_w_per_m2k=u if math.isfinite(u) else 0.0, name=str(pid), in_service=bool(row["in_service"]))
    for sid, row in network.table("short_pipe").iterrows():
        _create_valve(pandapipes, pp, j[row["from_node"]], j[row["to_node"]], diameter_m=1.0, opened=True,
                                name=str(sid), in_service=bool(row["in_service"]))
    for vid, row in network.table("valve").iterrows():
        _create_valve(pandapipes, pp, j[row["from_node"]], j[row["to_node"]], diameter_m=1.0, opened=bool(row["open"]),
                                name=str(vid), in_service=bool(row["in_service"]))
    if "check_valve" in network.tables:
        for cid, row in network.table("check_valve").iterrows():
            unmapped.append(f"check_valve {cid}: pandapipes has none; written as an open valve")
            _create_valve(pandapipes, pp, j[row["from_node"]], j[row["to_node"]], diameter_m=1.0, opened=True,
                          name=str(cid), in_service=bool(row["in_service"]))
    for uid in network.table("pump").index:
        unmapped.append(f"pump {uid}: not exported (pandapipes needs a pump std type built from the curve)")
    for rid, row in network.table("resistor").iterrows():
        if math.isfinite(row["drag_factor"]) and math.isfinite(row["diameter_mm"]):
            _create_valve(pandapipes, pp, j[row["from_node"]], j[row["to_node"]], diameter_m=row["diameter_mm"] / 1e3,
                                    opened=True, loss_coefficient=float(row["drag_factor"]), name=str(rid),
                                    in_service=bool(row["in_service"]))
        else:
            unmapped.append(f"resistor {rid}: fixed pressure drop")


def _export_active(pandapipes: Any, pp: Any, network: Network, j: dict[str, int], height: pd.Series,
                   unmapped: list[str]) -> None:
    for cid, row in network.table("compressor").iterrows():
        fr, to, on = j[row["from_node"]], j[row["to_node"]], bool(row["in_service"])
        if row["mode"] == "ratio":
            pandapipes.create_compressor(pp, fr, to, pressure_ratio=float(row["ratio"]), name=str(cid), in_service=on)
        elif row["mode"] in ("bypass", "off"):
            _create_valve(pandapipes, pp, fr, to, diameter_m=1.0, opened=row["mode"] == "bypass", name=str(cid),
                                    in_service=on)
        else:
            unmapped.append(f"compressor {cid}: mode {row['mode']!r} (pandapipes compressors hold a pressure ratio)")
    for vid, row in network.table("control_valve").iterrows():
        fr, to, on = j[row["from_node"]], j[row["to_node"]], bool(row["in_service"])
        if row["mode"] == "set_point":
            pandapipes.create_pressure_control(
                pp, fr, to, to, controlled_p_bar=float(row["p_set_bar"] - p_atm_bar(height[row["to_node"]])),
                name=str(vid), in_service=on)
        else:
            _create_valve(pandapipes, pp, fr, to, diameter_m=1.0, opened=row["mode"] == "open", name=str(vid),
                                    in_service=on)


def _create_valve(pandapipes: Any, pp: Any, fr: int, to: int, *, diameter_m: float, opened: bool, name: str,
                  in_service: bool, loss_coefficient: float = 0.0) -> None:
    # pandapipes valves connect a junction to an element (et="ju": another junction); ζ = 0 means no loss
    pandapipes.create_valve(pp, fr, to, et="ju", inner_diameter_mm=diameter_m * 1e3, opened=opened,
                            loss_coefficient=loss_coefficient, name=name, in_service=in_service)


def write_pandapipes_json(network: Network, path: str | Path, *, strict: bool = False) -> Path:
    """Convert with :func:`to_pandapipes` and write pandapipes JSON (atomically). Returns the path."""
    pandapipes = _pandapipes()
    export = to_pandapipes(network, strict=strict)
    try:
        with atomic_path(path) as tmp:
            pandapipes.to_json(export.net, str(tmp))
    except OSError as exc:
        raise InputError(f"cannot write: {exc}", source=str(path)) from exc
    return Path(path)
