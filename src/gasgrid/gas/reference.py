"""Reference equations of state (placeholder until the AGA8/GERG module lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gasgrid.errors import InputError

if TYPE_CHECKING:
    from gasgrid.gas.model import Gas


def reference_z_and_dz_dp(
    gas: Gas, p: NDArray[np.float64], T: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    raise InputError(f"equation of state {gas.eos.value!r} is not available yet", kind="gas", field="eos")
