"""One exception family for gasgrid.

Every error a user can trigger derives from :class:`GasgridError`. Input errors name the element, the field
and the allowed range, so that a message can be acted on without reading the code.
"""

from __future__ import annotations


class GasgridError(Exception):
    """Base class of every error raised by gasgrid."""


class InputError(GasgridError, ValueError):
    """Bad user input: a table, a file, an option. Names the element and field where it can."""

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        element: str | None = None,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        where = []
        if source:
            where.append(source)
        if kind:
            where.append(kind)
        if element is not None:
            where.append(repr(element))
        if field:
            where.append(f"field {field!r}")
        prefix = (" ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)
        self.kind = kind
        self.element = element
        self.field = field
        self.source = source


class TopologyError(InputError):
    """The network's topology cannot be solved as given (island without pressure reference, conflicts)."""


class InfeasibleError(GasgridError):
    """No physical state exists (pressure would fall to zero or below)."""


class ConvergenceError(GasgridError):
    """A numerical method did not converge."""


class MissingExtraError(GasgridError, ImportError):
    """An optional dependency is needed for this feature."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs the optional package {package!r}: pip install 'gasgrid[{extra}]'"
        )
