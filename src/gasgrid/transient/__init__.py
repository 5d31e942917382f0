"""Transient simulation: isothermal Euler equations on every pipe, all component kinds coupled as in steady state.

Pipeline: compiled network -> :mod:`grid` (cells, unknown layout, sparsity pattern) -> :mod:`system`
(the equations, evaluated by the numba kernels of :mod:`kernels`, :mod:`sweep`, :mod:`gas_kernels`,
:mod:`friction_kernels`) -> :mod:`schemes` (time-integration strategies) + :mod:`newton` with :mod:`linear`
(pipe-by-pipe elimination) -> :mod:`stepper` (one step: :mod:`fastpath` or the general path, with :mod:`stations`:
limits, overrides, bypass, fuel) -> :mod:`simulate` (the entry point) -> :mod:`record` + :mod:`output` (xarray
Dataset, line pack, survival time).
"""

from gasgrid.transient.bc import (
    BoundaryConditions,
    CompressorControl,
    DemandStep,
    Event,
    StationTrip,
    SupplyCut,
    TimeSeries,
    ValveClose,
    ValveOpen,
    bc_from_dict,
    load_events,
)
from gasgrid.transient.initial import InitialState
from gasgrid.transient.newton import NewtonOptions
from gasgrid.transient.output import TransientResult, TransientStatus, survival_time
from gasgrid.transient.schemes import BDF2, ExplicitStaggered, ImplicitEuler, Theta
from gasgrid.transient.simulate import TransientOptions, simulate
from gasgrid.transient.stations import RegulatorCode, StationCode

__all__ = [
    "BDF2",
    "BoundaryConditions",
    "CompressorControl",
    "DemandStep",
    "Event",
    "ExplicitStaggered",
    "ImplicitEuler",
    "InitialState",
    "NewtonOptions",
    "RegulatorCode",
    "StationCode",
    "StationTrip",
    "SupplyCut",
    "Theta",
    "TimeSeries",
    "TransientOptions",
    "TransientResult",
    "TransientStatus",
    "ValveClose",
    "ValveOpen",
    "bc_from_dict",
    "load_events",
    "simulate",
    "survival_time",
]
