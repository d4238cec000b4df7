"""Files that hold patients' details: made new, for their owner alone, never left half-written."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def new_private_file(path: str | Path, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open a file that does not exist yet (an existing one raises FileExistsError and is
    left alone), readable by its owner only. If the block fails (a full disk, Ctrl+C), the
    file is removed: no part of what it was to hold is left behind."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as file:
            yield file
    except BaseException:
        os.unlink(path)
        raise
