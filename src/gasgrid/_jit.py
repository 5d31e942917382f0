"""A guard against stale numba caches, shared by the steady and transient kernel modules.

Numba keys a cached function on its *own* source file only, but compiles into it the kernels it calls from
other files and the module-level constants it reads (friction floors, unit constants): edit those and the
cached kernel would keep the old code. :func:`refresh_stale_caches` fingerprints the kernel modules and the
files they depend on and, when the fingerprint changed, deletes the modules' cache files in their package's
``__pycache__`` (where numba keeps them when the folder is writable; an installed, read-only package is only
ever replaced as a whole, which invalidates every entry).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path


def refresh_stale_caches(folder: Path, modules: Sequence[str], stamp_name: str,
                         dependencies: Sequence[Path] = ()) -> bool:
    """Delete the numba caches of ``modules`` (``folder/<module>.py``) if any of their sources or
    ``dependencies`` changed since the caches were written; returns whether it deleted. Best effort:
    file-system errors leave the caches as they are."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return False  # caches live elsewhere, keyed by path; nothing here to compare with
    try:
        sources = [folder / f"{m}.py" for m in modules] + [Path(d) for d in dependencies]
        digest = hashlib.sha1(b"".join(p.read_bytes() for p in sources)).hexdigest()
        cache = folder / "__pycache__"
        stamp = cache / stamp_name
        if stamp.is_file() and stamp.read_text() == digest:
            return False
        if not cache.is_dir() or not os.access(cache, os.W_OK):
            return False
        for m in modules:
            for f in [*cache.glob(f"{m}.*.nbi"), *cache.glob(f"{m}.*.nbc")]:
                f.unlink(missing_ok=True)
        stamp.write_text(digest)
        return True
    except OSError:
        return False
