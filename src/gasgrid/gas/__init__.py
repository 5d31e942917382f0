"""Gas properties: equations of state, viscosity, reference densities, heating values.

Contract: every function takes SI (Pa absolute, K) and returns SI. A :class:`Gas` is immutable and
picklable; the solvers call :meth:`Gas.z` and :meth:`Gas.dz_dp` vectorised over arrays.
"""

from gasgrid.gas.model import EOS, Gas

__all__ = ["EOS", "Gas"]
