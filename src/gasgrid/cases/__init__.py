"""Bundled cases: the Russia–China East Route (and variants) and the GasLib instances, by name."""

from __future__ import annotations

from typing import Any

from gasgrid.errors import InputError
from gasgrid.model.network import Network


def list_cases() -> dict[str, str]:
    """Case name -> one-line description, East Route first."""
    from gasgrid.cases.east_route import list_east_route_cases
    from gasgrid.cases.gaslib import list_gaslib_cases

    return {**list_east_route_cases(), **list_gaslib_cases()}


def load_case(name: str, **kw: Any) -> Network:
    """Load a bundled case by name (see :func:`list_cases`); keywords go to the case's loader."""
    from gasgrid.cases.east_route import CASES as EAST
    from gasgrid.cases.gaslib import list_gaslib_cases, load_gaslib_case

    key = name.strip().lower()
    if key in EAST:
        return EAST[key][1](**kw)
    if key in list_gaslib_cases():
        return load_gaslib_case(key, **kw)
    raise InputError(f"unknown case {name!r}; bundled cases: {', '.join(list_cases())}")


__all__ = ["list_cases", "load_case"]
