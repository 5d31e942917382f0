"""Security-of-supply analysis: scenarios as deltas, N-1 contingency sweeps (serial or on Dask), least
curtailment with redispatch (HiGHS), capacity search and the EU N-1 indicator.

Contract: every analysis reads a :class:`~gasgrid.model.compiled.CompiledNetwork` (or compiles a
:class:`~gasgrid.Network`), never edits the user's tables, and returns data: records with a status and an
error text for every scenario, result objects with units in their field names (kg/s, bar absolute, mcm/d).
highspy is needed for curtailment, dask.distributed only for ``executor="dask"``.
"""

from gasgrid.analysis.capacity_search import CapacityResult, capacity
from gasgrid.analysis.contingency import ContingencyOptions, evaluate_scenario, rank_outages, unserved_by_group
from gasgrid.analysis.curtailment import CurtailmentOptions, CurtailmentResult, curtail
from gasgrid.analysis.east_route import east_route_n1_section, east_route_scenarios
from gasgrid.analysis.n1 import N1Result, n_minus_1_from_network, n_minus_1_indicator
from gasgrid.analysis.scenario import (
    DemandScale,
    Outage,
    Scenario,
    SetPoint,
    SupplyChange,
    n_minus_1_scenarios,
)
from gasgrid.analysis.sweep import SweepResult, n_minus_1, read_dataset, run_sweep
from gasgrid.analysis.topology import resolve_islands

__all__ = [
    "CapacityResult",
    "ContingencyOptions",
    "CurtailmentOptions",
    "CurtailmentResult",
    "DemandScale",
    "N1Result",
    "Outage",
    "Scenario",
    "SetPoint",
    "SupplyChange",
    "SweepResult",
    "capacity",
    "curtail",
    "east_route_n1_section",
    "east_route_scenarios",
    "evaluate_scenario",
    "n_minus_1",
    "n_minus_1_from_network",
    "n_minus_1_indicator",
    "n_minus_1_scenarios",
    "rank_outages",
    "read_dataset",
    "resolve_islands",
    "run_sweep",
    "unserved_by_group",
]
