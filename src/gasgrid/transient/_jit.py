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

import hashlib
import os
from pathlib import Path

JIT = dict(cache=True, error_model="numpy", nogil=True)
KERNEL_MODULES = ("_jit", "gas_kernels", "friction_kernels", "kernels", "sweep", "linear", "stations", "fastpath")
_STAMP = "transient-kernels.sha1"


def refresh_stale_caches(folder: Path | None = None) -> bool:
    """Delete the numba caches of the kernel modules if any of their sources changed since the caches were
    written; returns whether it deleted. Best effort: file-system errors leave the caches as they are."""
    here = folder or Path(__file__).parent
    if os.environ.get("NUMBA_CACHE_DIR"):
        return False  # caches live elsewhere, keyed by path; nothing here to compare with
    try:
        digest = hashlib.sha1(b"".join((here / f"{m}.py").read_bytes() for m in KERNEL_MODULES)).hexdigest()
        cache = here / "__pycache__"
        stamp = cache / _STAMP
        if stamp.is_file() and stamp.read_text() == digest:
            return False
        if not cache.is_dir() or not os.access(cache, os.W_OK):
            return False
        for m in KERNEL_MODULES:
            for f in [*cache.glob(f"{m}.*.nbi"), *cache.glob(f"{m}.*.nbc")]:
                f.unlink(missing_ok=True)
        stamp.write_text(digest)
        return True
    except OSError:
        return False


refresh_stale_caches()
