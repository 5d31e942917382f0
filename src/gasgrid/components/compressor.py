"""Compressor stations: set-point control with limits and overrides, power and fuel (kernel in physics/).

Modes (the controlled quantity): ``discharge`` pressure, ``suction`` pressure, pressure ``ratio``, throughput
(``flow``), shaft ``power``; ``bypass`` (no compression, zero pressure loss) and ``off`` (closed). Limits
override the set point when they bind, as a station controller does.
"""

from __future__ import annotations

import math

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import Column, Schema

MODES = ("discharge", "suction", "ratio", "flow", "power", "bypass", "off")
DRIVERS = ("gas_turbine", "electric")
HEADS = ("isentropic", "polytropic")

SCHEMA = Schema(
    kind="compressor",
    description="compressor station between suction (from) and discharge (to)",
    is_arc=True,
    columns=(
        FROM,
        TO,
        Column("mode", "str", default="bypass", description="controlled quantity (discharge/suction pressure, "
               "ratio, flow, power) or bypass/off", choices=MODES),
        Column("ratio", "float", "-", 1.0, math.nan, "pressure-ratio set point p_out/p_in (mode='ratio')",
               1.0, 10.0),
        Column("p_set_bar", "float", "bar (absolute)", 1e5, math.nan,
               "discharge (mode='discharge') or suction (mode='suction') pressure set point", 0.0, 1000.0,
               lo_open=True),
        Column("flow_set_kg_s", "float", "kg/s", 1.0, math.nan, "throughput set point (mode='flow')", 0.0, 1e5),
        Column("power_set_MW", "float", "MW", 1e6, math.nan, "shaft power set point (mode='power')", 0.0, 1e4),
        Column("ratio_max", "float", "-", 1.0, math.nan, "maximum pressure ratio", 1.0, 10.0),
        Column("ratio_min", "float", "-", 1.0, math.nan, "minimum pressure ratio while compressing", 1.0, 10.0),
        Column("p_discharge_max_bar", "float", "bar (absolute)", 1e5, math.nan, "maximum discharge pressure",
               0.0, 1000.0, lo_open=True),
        Column("p_suction_min_bar", "float", "bar (absolute)", 1e5, math.nan, "minimum suction pressure",
               0.0, 1000.0),
        Column("power_max_MW", "float", "MW", 1e6, math.nan, "maximum shaft power (installed, in service)",
               0.0, 1e4, lo_open=True),
        Column("flow_max_kg_s", "float", "kg/s", 1.0, math.nan, "maximum throughput", 0.0, 1e5, lo_open=True),
        Column("efficiency", "float", "-", 1.0, 0.82, "isentropic/polytropic efficiency of compression",
               0.0, 1.0, lo_open=True),
        Column("head", "str", default="isentropic", description="head model", choices=HEADS),
        Column("driver", "str", default="gas_turbine", description="driver type", choices=DRIVERS),
        Column("driver_efficiency", "float", "-", 1.0, 0.35, "gas turbine thermal or motor efficiency",
               0.0, 1.0, lo_open=True),
        Column("suction_temperature_K", "float", "K", 1.0, math.nan,
               "suction gas temperature; NaN = network temperature", 150.0, 400.0),
        IN_SERVICE,
        NAME,
        SOURCE,
    ),
)
