"""GasLib compressor-station details (``.cs``) and combined decisions (``.cdf``) as plain frozen data.

Contract: :func:`read_gaslib_cs` returns ``{station_id: CompressorStationData}``; measured points are converted to
SI (speed in revolutions per second, head J/kg, volumetric flow m^3/s at suction conditions, power W, torque N m,
temperature K). The fitted polynomials are kept with the coefficients exactly as in the file (GasLib's own units,
stated on each field) so an exporter can write them back unchanged; evaluate them through the methods, which take
and return SI. The polynomial layouts were checked against the measurements in GasLib-582 and GasLib-4197 (see
tests/test_gaslib.py):

- turbo compressor head [kJ/kg] and adiabatic efficiency [-]: ``sum(c[i + 3 j] n^i Q^j, i, j = 0..2)`` with speed
  n in 1/min and suction volumetric flow Q in m^3/s (``n_isoline_coeff_*``, ``eta_ad_isoline_coeff_*``);
- surge and choke lines: head [kJ/kg] = ``c[0] + c[1] Q + c[2] Q^2``;
- drive maximal power [kW] = ``sum(c[i + 3 j] n^i T^j)`` with n in 1/min and ambient T in °C (9 coefficients), or
  ``c[0] + c[1] n + c[2] n^2`` (3 coefficients); fuel power [kW] = ``e[0] + e[1] P + e[2] P^2`` with shaft power
  P in kW (``energy_rate_fun_coeff_*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from gasgrid.errors import InputError
from gasgrid.io.gaslib_xml import Children, PathLike, load_xml, local, source_name, to_si

KJ = 1e3
PER_MIN = 60.0  # (1/min) per (1/s)


def _poly2(c: tuple[float, ...], x: float, y: float) -> float:
    return sum(c[i + 3 * j] * x**i * y**j for i in range(3) for j in range(3))


def _poly1(c: tuple[float, ...], x: float) -> float:
    return c[0] + c[1] * x + c[2] * x * x


@dataclass(frozen=True)
class MapPoint:
    """One measured point of a characteristic map (SI): speed [1/s], head [J/kg], suction volume flow [m^3/s]."""

    speed: float
    head: float
    volume_flow: float
    efficiency: float = float("nan")  # adiabatic efficiency of the isoline this point lies on (NaN: surge line)


@dataclass(frozen=True)
class TurboCompressor:
    """A turbo (centrifugal) compressor with its fitted characteristic diagram.

    Attributes:
        speed_min, speed_max: 1/s (revolutions per second).
        head_coeffs: 9 coefficients, head in kJ/kg from n [1/min] and Q [m^3/s] (GasLib units).
        efficiency_coeffs: 9 coefficients, adiabatic efficiency [-] from n [1/min] and Q [m^3/s].
        surge_coeffs, choke_coeffs: 3 coefficients each, head in kJ/kg from Q [m^3/s].
        efficiency_of_chokeline: adiabatic efficiency on the choke line [-] (NaN if not given).
        surge_points, map_points: the measurements the fits were made from (SI).
    """

    id: str
    drive: str
    speed_min: float
    speed_max: float
    head_coeffs: tuple[float, ...]
    efficiency_coeffs: tuple[float, ...]
    surge_coeffs: tuple[float, ...]
    choke_coeffs: tuple[float, ...]
    efficiency_of_chokeline: float = float("nan")
    surge_points: tuple[MapPoint, ...] = ()
    map_points: tuple[MapPoint, ...] = ()

    def head(self, speed: float, volume_flow: float) -> float:
        """Adiabatic head [J/kg] at speed [1/s] and suction volume flow [m^3/s]."""
        return KJ * _poly2(self.head_coeffs, speed * PER_MIN, volume_flow)

    def efficiency(self, speed: float, volume_flow: float) -> float:
        """Adiabatic efficiency [-] at speed [1/s] and suction volume flow [m^3/s]."""
        return _poly2(self.efficiency_coeffs, speed * PER_MIN, volume_flow)

    def surge_head(self, volume_flow: float) -> float:
        """Head on the surge line [J/kg] at suction volume flow [m^3/s]."""
        return KJ * _poly1(self.surge_coeffs, volume_flow)

    def choke_head(self, volume_flow: float) -> float:
        """Head on the choke line [J/kg] at suction volume flow [m^3/s]."""
        return KJ * _poly1(self.choke_coeffs, volume_flow)


@dataclass(frozen=True)
class PistonCompressor:
    """A piston (reciprocating) compressor. SI: speeds 1/s, operating volume m^3, maximal torque N m."""

    id: str
    drive: str
    speed_min: float
    speed_max: float
    operating_volume: float
    max_torque: float
    max_compression_ratio: float
    adiabatic_efficiency: float
    additional_reduction_vol_flow: float


@dataclass(frozen=True)
class Drive:
    """A compressor drive (``gasTurbine``, ``gasDrivenMotor``, ... as ``kind``, the GasLib tag).

    Attributes:
        energy_rate_coeffs: fuel power [kW] = e0 + e1 P + e2 P^2, P shaft power in kW (GasLib units).
        power_coeffs: maximal power [kW] from n [1/min] (3 coefficients) or n and ambient T [°C] (9).
        fuel_points: measured (shaft power [W], fuel power [W]).
        max_power_points: measured (ambient temperature [K] or NaN, speed [1/s], maximal power [W]).
    """

    id: str
    kind: str
    energy_rate_coeffs: tuple[float, ...]
    power_coeffs: tuple[float, ...]
    fuel_points: tuple[tuple[float, float], ...] = ()
    max_power_points: tuple[tuple[float, float, float], ...] = ()

    def fuel_power(self, shaft_power: float) -> float:
        """Fuel energy rate [W] at shaft power [W]."""
        return KJ * _poly1(self.energy_rate_coeffs, shaft_power / KJ)

    def max_power(self, speed: float, ambient_temperature: float = 288.15) -> float:
        """Maximal shaft power [W] at speed [1/s] and ambient temperature [K]."""
        n = speed * PER_MIN
        if len(self.power_coeffs) == 9:
            return KJ * _poly2(self.power_coeffs, n, ambient_temperature - 273.15)
        return KJ * _poly1(self.power_coeffs, n)


@dataclass(frozen=True)
class Stage:
    """One serial stage of a configuration: ``parallel_units`` machines, each (compressor id, nominal speed [1/s])."""

    number: int
    parallel_units: int
    units: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Configuration:
    """One allowed machine configuration of a station: serial stages in order."""

    id: str
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class CompressorStationData:
    """Machines, drives and configurations of one compressor station (``net.meta["gaslib_cs"][id]``)."""

    id: str
    compressors: tuple[TurboCompressor | PistonCompressor, ...]
    drives: tuple[Drive, ...]
    configurations: tuple[Configuration, ...]


def read_gaslib_cs(path: PathLike) -> dict[str, CompressorStationData]:
    """Parse a GasLib ``.cs`` file (plain or ``.gz``). Raises InputError on malformed or unknown content."""
    src = source_name(path)
    root = load_xml(path)
    if local(root.tag) != "compressorStations":
        raise InputError(f"expected a <compressorStations> document, got <{local(root.tag)}>", source=src)
    out: dict[str, CompressorStationData] = {}
    for st in root:
        if local(st.tag) != "compressorStation":
            continue
        sid = _id(st, "compressorStation", src)
        if sid in out:
            raise InputError("duplicate id", kind="compressorStation", element=sid, source=src)
        parts = {local(c.tag): c for c in st if local(c.tag)}
        compressors = tuple(_compressor(c, src) for c in parts.get("compressors", ()) if local(c.tag))
        drives = tuple(_drive(d, src) for d in parts.get("drives", ()) if local(d.tag))
        confs = tuple(_configuration(c, sid, src) for c in parts.get("configurations", ()) if local(c.tag))
        known = {c.id for c in compressors}
        for conf in confs:
            for stage in conf.stages:
                for cid, _ in stage.units:
                    if cid not in known:
                        raise InputError(f"configuration {conf.id!r} references unknown compressor {cid!r}",
                                         kind="compressorStation", element=sid, field="configurations", source=src)
        out[sid] = CompressorStationData(sid, compressors, drives, confs)
    return out


def _id(e: Element, kind: str, src: str) -> str:
    v = e.get("id")
    if not v:
        raise InputError("has no id attribute", kind=kind, source=src)
    return v


def _coeffs(ch: Children, prefix: str, sizes: tuple[int, ...], *, required: bool = True) -> tuple[float, ...]:
    found = [k for k in ch.raw if k.startswith(prefix)]
    if not found and not required:
        return ()
    for n in sizes:
        if sorted(found) == sorted(f"{prefix}{i}" for i in range(1, n + 1)):
            return tuple(ch.si(f"{prefix}{i}", "dimensionless", required=True) for i in range(1, n + 1))
    raise InputError(f"expected coefficients {prefix}1..{'/'.join(map(str, sizes))}, got {sorted(found)}",
                     kind=ch.kind, element=ch.elem_id, field=prefix + "*", source=ch.source)


def _points(parent: Element | None, ch: Children, efficiency: float = float("nan")) -> tuple[MapPoint, ...]:
    if parent is None:
        return ()
    pts = []
    for m in parent:
        if local(m.tag) != "measurement":
            continue
        mc = Children(m, kind=ch.kind, elem_id=ch.elem_id, source=ch.source)
        pts.append(MapPoint(mc.si("speed", "speed", required=True), mc.si("adiabaticHead", "specific_energy",
                            required=True), mc.si("volumetricFlowrate", "volume_flow", required=True), efficiency))
    return tuple(pts)


def _compressor(e: Element, src: str) -> TurboCompressor | PistonCompressor:
    tag = local(e.tag)
    cid = _id(e, tag, src)
    ch = Children(e, kind=tag, elem_id=cid, source=src)
    drive = e.get("drive") or ""
    speed = (ch.si("speedMin", "speed", required=True), ch.si("speedMax", "speed", required=True))
    if tag == "turboCompressor":
        diagram = ch.subs.get("characteristicDiagramMeasurements")
        map_pts: list[MapPoint] = []
        for iso in diagram if diagram is not None else ():
            if local(iso.tag) == "adiabaticEfficiency":
                eta = to_si(iso.get("value"), iso.get("unit"), "dimensionless", kind=tag, element=cid,
                            field="adiabaticEfficiency", source=src)
                map_pts.extend(_points(iso, ch, eta))
        return TurboCompressor(
            cid, drive, *speed,
            head_coeffs=_coeffs(ch, "n_isoline_coeff_", (9,)),
            efficiency_coeffs=_coeffs(ch, "eta_ad_isoline_coeff_", (9,)),
            surge_coeffs=_coeffs(ch, "surgeline_coeff_", (3,)),
            choke_coeffs=_coeffs(ch, "chokeline_coeff_", (3,)),
            efficiency_of_chokeline=ch.si("efficiencyOfChokeline", "dimensionless"),
            surge_points=_points(ch.subs.get("surgelineMeasurements"), ch),
            map_points=tuple(map_pts),
        )
    if tag == "pistonCompressor":
        return PistonCompressor(
            cid, drive, *speed,
            operating_volume=ch.si("operatingVolume", "volume", required=True),
            max_torque=ch.si("maximalTorque", "torque", required=True),
            max_compression_ratio=ch.si("maximalCompressionRatio", "dimensionless", required=True),
            adiabatic_efficiency=ch.si("adiabaticEfficiency", "dimensionless", required=True),
            additional_reduction_vol_flow=ch.si("additionalReductionVolFlow", "dimensionless", required=True),
        )
    raise InputError(f"unknown compressor type <{tag}>; known: turboCompressor, pistonCompressor", kind=tag,
                     element=cid, source=src)


def _drive(e: Element, src: str) -> Drive:
    tag = local(e.tag)
    did = _id(e, tag, src)
    ch = Children(e, kind=tag, elem_id=did, source=src)
    fuel: list[tuple[float, float]] = []
    for m in ch.subs.get("specificEnergyConsumptionMeasurements", ()):
        if local(m.tag) == "measurement":
            mc = Children(m, kind=tag, elem_id=did, source=src)
            fuel.append((mc.si("compressorPower", "power", required=True),
                         mc.si("fuelConsumption", "power", required=True)))
    pmax: list[tuple[float, float, float]] = []
    for block in ch.subs.get("maximalPowerMeasurements", ()):
        groups: list[tuple[float, Any]] = []
        if local(block.tag) == "ambientTemperature":
            t = to_si(block.get("value"), block.get("unit"), "temperature", kind=tag, element=did,
                      field="ambientTemperature", source=src)
            groups = [(t, m) for m in block]
        elif local(block.tag) == "measurement":
            groups = [(float("nan"), block)]
        for t, m in groups:
            if local(m.tag) == "measurement":
                mc = Children(m, kind=tag, elem_id=did, source=src)
                pmax.append((t, mc.si("speed", "speed", required=True), mc.si("maximalPower", "power", required=True)))
    return Drive(did, tag, _coeffs(ch, "energy_rate_fun_coeff_", (3,)), _coeffs(ch, "power_fun_coeff_", (9, 3),
                 required=False), tuple(fuel), tuple(pmax))


def _configuration(e: Element, sid: str, src: str) -> Configuration:
    conf_id = e.get("confId") or ""
    stages = []
    for s in e:
        if local(s.tag) != "stage":
            continue
        try:
            number, parallel = int(s.get("stageNr", "")), int(s.get("nrOfParallelUnits", ""))
            units = tuple((c.get("id") or "", float(c.get("nominalSpeed", "nan")) / PER_MIN)
                          for c in s if local(c.tag) == "compressor")
        except ValueError as exc:
            raise InputError(f"configuration {conf_id!r}: {exc}", kind="compressorStation", element=sid,
                             field="stage", source=src) from None
        stages.append(Stage(number, parallel, units))
    return Configuration(conf_id, tuple(sorted(stages, key=lambda s: s.number)))


def read_gaslib_cdf(path: PathLike) -> dict[str, dict[str, tuple[dict[str, Any], ...]]]:
    """Parse a GasLib ``.cdf`` (combined decisions): ``{group: {decision: ({kind, id, value, ...}, ...)}}``.

    Each entry is ``{"kind": "valve"|"controlValve"|"compressorStation", "id": ..., "value": 0|1,
    "flowDirection": 0|1|None, "mode": str|None}`` exactly as in the file (value 1 = element active/open).
    """
    src = source_name(path)
    root = load_xml(path)
    if local(root.tag) != "combinedDecisions":
        raise InputError(f"expected a <combinedDecisions> document, got <{local(root.tag)}>", source=src)
    out: dict[str, dict[str, tuple[dict[str, Any], ...]]] = {}
    for group in root:
        if local(group.tag) != "decisionGroup":
            continue
        gid = _id(group, "decisionGroup", src)
        decisions: dict[str, tuple[dict[str, Any], ...]] = {}
        for dec in group:
            if local(dec.tag) != "decision":
                continue
            did = _id(dec, "decision", src)
            try:
                decisions[did] = tuple(_decision(x) for x in dec if local(x.tag))
            except ValueError as exc:
                raise InputError(f"bad integer: {exc}", kind="decision", element=did, source=src) from None
        out[gid] = decisions
    return out


def _decision(x: Element) -> dict[str, Any]:
    direction = x.get("flowDirection")
    return {"kind": local(x.tag), "id": x.get("id"), "value": int(x.get("value", "")),
            "flowDirection": int(direction) if direction is not None else None, "mode": x.get("mode")}
