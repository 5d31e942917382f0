"""Shared fixtures. Solver tests raise floating-point errors (STYLE.md: tests stricter than production);
underflow is allowed because tiny residuals are fine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def strict_fp() -> Iterator[None]:
    old = np.seterr(divide="raise", over="raise", invalid="raise", under="ignore")
    try:
        yield
    finally:
        np.seterr(**old)
