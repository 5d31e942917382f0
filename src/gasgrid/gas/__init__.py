"""Gas properties: equations of state, viscosity, reference densities, heating values.

Contract: every function takes SI (Pa absolute, K) and returns SI. A :class:`Gas` is immutable and
picklable; the solvers call :meth:`Gas.z` and :meth:`Gas.dz_dp` vectorised over arrays.

Modules: ``model`` (the Gas value object, ideal/Papay/CNGA), ``components`` (pure-component data, composition
checks), ``aga8`` (AGA8-DC92 DETAIL), ``gross`` (AGA8-DC92 GROSS), ``gerg`` (GERG-2008 via CoolProp, optional),
``tabulation`` and ``reference`` (cached Z(p) tables behind ``Gas.z`` for the reference equations),
``viscosity`` (Lee-Gonzalez-Eakin).
"""

from gasgrid.gas.model import EOS, Gas

__all__ = ["EOS", "Gas"]
