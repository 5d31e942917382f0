"""The numba options of every transient kernel, and a guard against stale kernel caches.

Contract: kernel modules take their options from :data:`JIT` (``cache=True``: compiled once per machine and
loaded in later processes; ``error_model="numpy"``: IEEE results for division by zero, as the numpy code had).

Numba keys a cached function on its *own* source file only, but compiles the kernels it calls from other files
into it: edit ``friction_kernels.py`` and the cached ``sweep.residual`` would keep the old friction law. So on
import, :func:`refresh_stale_caches` fingerprints the sources of all kernel modules and, when the fingerprint
changed, deletes their cache files in the package's ``__pycache__`` (where numba keeps them when the folder is
writable; an installed, read-only package is only ever replaced as a whole, which invalidates every entry).
"""

from __future__ import annotations

from pathlib import Path

from gasgrid._jit import refresh_stale_caches as _refresh

JIT = dict(cache=True, error_model="numpy", nogil=True)
KERNEL_MODULES = ("_jit", "gas_kernels", "friction_kernels", "kernels", "sweep", "linear", "stations", "fastpath")
_STAMP = "transient-kernels.sha1"


_PACKAGE = Path(__file__).resolve().parent.parent
DEPENDENCIES = tuple(_PACKAGE / f for f in ("physics/friction.py", "physics/pipe.py", "physics/kernels.py", "units.py",
                                                   "linalg/vector.py"))
"""Files outside the package whose constants the kernels compile in."""


def refresh_stale_caches(folder: Path | None = None) -> bool:
    """Delete the numba caches of the kernel modules if any of their sources (or :data:`DEPENDENCIES`) changed
    since the caches were written; returns whether it deleted (see :mod:`gasgrid._jit`)."""
    return _refresh(folder or Path(__file__).parent, KERNEL_MODULES, _STAMP, DEPENDENCIES)


refresh_stale_caches()
