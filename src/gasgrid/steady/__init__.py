"""Steady-state simulation: options -> topology -> Newton -> results as data."""

from gasgrid.steady.options import InitialGuess, SteadyOptions
from gasgrid.steady.result import SteadyResult, SteadyStatus
from gasgrid.steady.solver import solve_steady

__all__ = ["InitialGuess", "SteadyOptions", "SteadyResult", "SteadyStatus", "solve_steady"]
