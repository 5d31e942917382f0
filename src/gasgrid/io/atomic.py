"""Atomic writing of files and directories: a failed run never leaves a half-written or clobbered output.

Contract: everything is first written to a temporary sibling of the target (same directory, hence the same
file system) and moved into place with :func:`os.replace` only when writing succeeded. On an exception the
temporary is removed and the previous target, if any, is left untouched.

Directories cannot be swapped in one system call (``rename`` onto a non-empty directory fails), so
:func:`atomic_dir` moves the old directory aside, moves the new one in and only then deletes the old one; if
the second move fails the old directory is put back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_dir", "atomic_open", "atomic_path", "atomic_write_bytes", "atomic_write_text"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary file path next to ``path``; on success it replaces ``path``.

    The caller writes the temporary path in any way it likes (e.g. a library that only accepts a file name).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _unique_sibling(target, ".tmp")
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # umask applies, unlike mkstemp
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open()`` for writing that replaces ``path`` only after the ``with`` block completed without error."""
    if not any(m in mode for m in "wx"):
        raise ValueError(f"atomic_open is for writing ('w' modes), got mode={mode!r}")
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp, open(tmp, mode.replace("x", "w"), **kwargs) as fh:
        yield fh


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary directory next to ``path``; on success it replaces the directory ``path``.

    Raises:
        FileExistsError: ``path`` exists and is not a directory (a file is never replaced by a directory).
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _unique_sibling(target, ".tmp")
    tmp.mkdir(0o777)  # umask applies, unlike mkdtemp
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old: Path | None = None
    if target.exists():
        old = _unique_sibling(target, ".old")
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _unique_sibling(target: Path, suffix: str) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}{suffix}")


def _fsync_file(path: Path) -> None:
    # data must be on disk before the rename makes it visible, or a crash can leave an empty file in place
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
