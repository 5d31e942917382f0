"""The bundled Russia–China eastern route: Power of Siberia and the China–Russia East Route, as data.

Contract: :func:`load_east_route` returns a fresh, validated :class:`~gasgrid.model.network.Network` built from
the CSV tables in ``gasgrid/cases/data/<variant>/`` (one file per component kind, columns exactly as the
schemas declare, pressures absolute in bar) plus ``case.json`` (case-level data and assumptions) and
``nominations.csv`` (offtakes in bcm/yr at the GOST/GB reference, 20 °C and 101.325 kPa). Volumes are converted
to kg/s here, explicitly, with the case gas's real-gas density at :attr:`~gasgrid.units.Reference.GOST`.

Every row carries the source tag of its numbers in ``source`` ([S..] sourced, [E] estimate, [C] community data,
see ``/work/shared/reference/east-route.md``). ``net.meta`` carries the case's assumptions, nominations,
sections and province list for reports.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from functools import partial
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import numpy as np
import pandas as pd

from gasgrid.errors import InputError
from gasgrid.gas import Gas
from gasgrid.model.network import Network
from gasgrid.units import Reference, bcm_per_year_to_m3_per_s

VARIANTS: tuple[str, ...] = ("east-route", "east-route-pos2")
TABLE_KINDS: tuple[str, ...] = ("node", "pipe", "short_pipe", "valve", "control_valve", "compressor", "supply")
VOLUME_REFERENCE = Reference.GOST
_MCM_PER_DAY_TO_M3_S = 1e6 / 86_400.0


def load_east_route(
    variant: str = "east-route",
    *,
    throughput_bcm: float = 38.0,
    demand_scale: float = 1.0,
    stations_out: Iterable[str] = (),
    composition: str = "A",
) -> Network:
    """Load the East Route case (or a bundled variant) as a validated network.

    Args:
        variant: ``"east-route"`` (default) or ``"east-route-pos2"`` (adds Power of Siberia 2 via Mongolia).
        throughput_bcm: East Route deliveries to China, bcm/yr at 20 °C, 101.325 kPa (GOST/GB). The bundled
            province split (38 bcm/yr design) is scaled so that the deliveries sum to this; the Amur GPP
            withdrawal and the Chayanda injection scale with it.
        demand_scale: factor on every offtake on top of ``throughput_bcm`` (e.g. 1.1 for a peak day).
        stations_out: compressor stations taken out: by id (``"cs_heihe"``), by point id (``"heihe"``) or by
            name, case-insensitive. They are set to ``bypass`` (gas flows through without compression).
        composition: ``"A"`` (post-Amur-GPP sales gas, default), ``"B"`` (untreated Chayanda-type) or ``"C"``
            (Kovykta-type raw gas), as in the reference §4.

    Raises:
        InputError: unknown variant, composition or station; non-positive throughput; negative scale.
    """
    info = case_info(variant)
    if not (isinstance(throughput_bcm, (int, float)) and math.isfinite(throughput_bcm) and throughput_bcm > 0):
        raise InputError(f"must be a positive number of bcm/yr, got {throughput_bcm!r}", kind="east-route",
                         field="throughput_bcm")
    if not (isinstance(demand_scale, (int, float)) and math.isfinite(demand_scale) and demand_scale >= 0):
        raise InputError(f"must be a finite number >= 0, got {demand_scale!r}", kind="east-route",
                         field="demand_scale")
    gas = case_gas(composition, info)
    net = Network(variant, gas=gas, temperature_K=float(info["temperature_K"]), crs=str(info["crs"]))
    tables = _read_tables(variant)
    rho = gas.reference_density(VOLUME_REFERENCE)

    noms = nominations(variant, throughput_bcm=throughput_bcm, demand_scale=demand_scale, density_kg_m3=rho)
    tables["supply"] = _supply_flows(tables["supply"], info, noms, rho)
    tables["compressor"] = _take_out(tables["compressor"], stations_out)
    for kind, frame in tables.items():
        net.set_table(kind, frame)
    demand = noms[["node", "flow_kg_s", "priority", "group", "name", "source"]].copy()
    demand["in_service"] = True
    net.set_table("demand", demand)
    net.validate()

    net.meta.update(
        case=variant,
        description=info["description"],
        volume_reference=VOLUME_REFERENCE,
        throughput_bcm=float(throughput_bcm),
        demand_scale=float(demand_scale),
        composition=composition.upper(),
        nominations=noms,
        assumptions=assumptions(variant),
        sections=pd.DataFrame(info["sections"]),
        provinces=list(info["provinces"]),
        length_accounting=dict(info["length_accounting"]),
    )
    return net


def case_info(variant: str = "east-route") -> dict[str, Any]:
    """The case-level data of ``variant`` (its ``case.json`` merged over its base case's)."""
    folder = _folder(variant)
    info: dict[str, Any] = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    base = info.get("base")
    if base is None:
        return info
    merged = case_info(str(base))
    for key, value in info.items():
        if key in ("sections", "assumptions"):
            merged[key] = [*merged[key], *value]
        elif key == "supplies":
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def case_gas(composition: str = "A", info: dict[str, Any] | None = None) -> Gas:
    """The gas of composition ``A``/``B``/``C`` (reference §4, mole %) with the case's equation of state.

    Molar mass, pseudo-critical point, gross calorific value and isentropic exponent follow from the
    composition (:meth:`Gas.from_composition`); ``case.json`` keeps the reference's molar mass and HHV at
    20 °C as a check.
    """
    info = info if info is not None else case_info("east-route")
    key = str(composition).strip().upper()
    table: dict[str, dict[str, Any]] = info["gas"]
    if key not in table:
        raise InputError(f"unknown composition {composition!r}; allowed: {sorted(table)}", kind="east-route",
                         field="composition")
    spec, model = table[key], info["gas_model"]
    fractions = {name: float(pct) / 100.0 for name, pct in spec["composition_mol_pct"].items()}
    return Gas.from_composition(fractions, eos=str(model["eos"]), viscosity=float(model["viscosity_Pa_s"]),
                                name=str(spec["label"]))


def nominations(
    variant: str = "east-route",
    *,
    throughput_bcm: float = 38.0,
    demand_scale: float = 1.0,
    density_kg_m3: float | None = None,
) -> pd.DataFrame:
    """Offtakes of ``variant`` in bcm/yr (GOST/GB, 20 °C, 101.325 kPa) and kg/s.

    Rows with ``basis == "throughput"`` are scaled so that the deliveries among them sum to
    ``throughput_bcm``; ``basis == "fixed"`` rows keep their volume. All rows are then multiplied by
    ``demand_scale``. ``density_kg_m3`` defaults to composition A's density at the GOST reference.

    Returns:
        DataFrame indexed by demand id: node, kind (delivery/plant), basis, group, name, source,
        design_bcm_per_year, bcm_per_year, mcm_per_day, flow_kg_s, priority.
    """
    rho = density_kg_m3 if density_kg_m3 is not None else case_gas("A").reference_density(VOLUME_REFERENCE)
    frames = [_read_csv(_folder(v) / "nominations.csv") for v in _chain(variant)]
    noms = pd.concat([f for f in frames if f is not None])
    noms = noms.rename(columns={"volume_bcm_per_year": "design_bcm_per_year"})
    scaled = noms["basis"] == "throughput"
    design_total = noms.loc[scaled & (noms["kind"] == "delivery"), "design_bcm_per_year"].sum()
    factor = np.where(scaled, throughput_bcm / design_total, 1.0) * demand_scale
    noms["bcm_per_year"] = noms["design_bcm_per_year"] * factor
    noms["mcm_per_day"] = noms["bcm_per_year"] * 1e3 / 365.0
    noms["flow_kg_s"] = [bcm_per_year_to_m3_per_s(v) * rho for v in noms["bcm_per_year"]]
    return noms


def assumptions(variant: str = "east-route") -> pd.DataFrame:
    """The case's stated assumptions: columns topic, assumption, source."""
    return pd.DataFrame(case_info(variant)["assumptions"], columns=["topic", "assumption", "source"])


def section_lengths(net: Network) -> pd.DataFrame:
    """Modelled pipe length per section (pipe-id prefix) against the official figure, km.

    Parallel strings (the Amur crossing) count once per string.
    """
    sections = net.meta.get("sections")
    if sections is None:
        raise InputError("not an East Route network (net.meta has no 'sections')", kind="east-route")
    pipes = net.pipes
    prefix = pipes.index.str.rsplit("-", n=1).str[0]
    km = pipes.groupby(prefix)["length_km"].sum()
    out = sections.set_index("prefix")[["country", "name", "official_km", "source"]].copy()
    out["modelled_km"] = [float(km.get(p, 0.0)) for p in out.index]
    return out


def china_length_km(net: Network) -> dict[str, float]:
    """The Chinese length as counted by the official 5,111 km figure (3,371 new + 1,740 existing [S3]).

    Returns modelled km of the sections in the official count, the existing-but-not-modelled km, their sum
    and the official figure.
    """
    acc = net.meta["length_accounting"]
    lengths = section_lengths(net)
    modelled = float(lengths.loc[list(acc["modelled_in_official_count"]), "modelled_km"].sum())
    unmodelled = float(acc["existing_not_modelled_km"])
    return {"modelled_km": modelled, "existing_not_modelled_km": unmodelled, "total_km": modelled + unmodelled,
            "official_km": float(acc["official_china_km"])}


def list_east_route_cases() -> dict[str, str]:
    """Bundled East Route variants: ``{name: one-line description}``."""
    return {v: str(case_info(v)["description"]) for v in VARIANTS}


# --- internals ---------------------------------------------------------------------------------------------
def _folder(variant: str) -> Traversable:
    if variant not in VARIANTS:
        raise InputError(f"unknown case {variant!r}; bundled: {list(VARIANTS)}", kind="east-route")
    return files("gasgrid.cases") / "data" / variant


def _chain(variant: str) -> list[str]:
    """The variant and its bases, base first."""
    folder = _folder(variant)
    base = json.loads((folder / "case.json").read_text(encoding="utf-8")).get("base")
    return [*_chain(str(base)), variant] if base else [variant]


def _read_csv(path: Traversable) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    with path.open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, index_col="id", dtype={"id": str})
    frame.index = frame.index.astype(str)
    return frame


def _read_tables(variant: str) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    for kind in TABLE_KINDS:
        parts = [_read_csv(_folder(v) / f"{kind}.csv") for v in _chain(variant)]
        found = [p for p in parts if p is not None]
        if found:
            tables[kind] = pd.concat(found)
    return tables


def _supply_flows(supply: pd.DataFrame, info: dict[str, Any], noms: pd.DataFrame, rho: float) -> pd.DataFrame:
    """Fill the volume-defined supply flows and bounds (case.json, GOST/GB volumes) in kg/s."""
    supply = supply.copy()
    feed_bcm = float(noms.loc[noms["basis"] == "throughput", "bcm_per_year"].sum())
    for sid, spec in info["supplies"].items():
        if sid not in supply.index:
            continue
        if "capacity_bcm_per_year" in spec:
            supply.loc[sid, "flow_max_kg_s"] = bcm_per_year_to_m3_per_s(spec["capacity_bcm_per_year"]) * rho
        if "share_of_feed" in spec:
            supply.loc[sid, "flow_kg_s"] = bcm_per_year_to_m3_per_s(spec["share_of_feed"] * feed_bcm) * rho
        if "mcm_per_day" in spec:
            q = float(spec["mcm_per_day"]) * _MCM_PER_DAY_TO_M3_S * rho
            supply.loc[sid, "flow_kg_s"] = q
            supply.loc[sid, "flow_max_kg_s"] = q
    return supply


def _take_out(compressors: pd.DataFrame, stations_out: Iterable[str]) -> pd.DataFrame:
    if isinstance(stations_out, str):
        stations_out = (stations_out,)
    out = compressors.copy()
    keys: dict[str, str] = {}
    for cid, row in out.iterrows():
        cid = str(cid)
        for key in (cid, cid.removeprefix("cs_"), str(row["from_node"]), str(row["name"]).split(" (")[0]):
            keys[key.strip().lower()] = cid
    for station in stations_out:
        cid = keys.get(str(station).strip().lower())
        if cid is None:
            raise InputError(f"unknown station {station!r}; stations: {sorted(out.index)}", kind="east-route",
                             field="stations_out")
        out.loc[cid, "mode"] = "bypass"
    return out


def _describe(variant: str) -> str:
    return str(case_info(variant)["description"])


CASES: dict[str, tuple[str, Callable[..., Network]]] = {
    v: (_describe(v), partial(load_east_route, v)) for v in VARIANTS
}
"""Registry entries for the lead's case registry: ``name -> (one-line description, loader(**kw))``."""
