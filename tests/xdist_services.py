"""Each test process gets its own Redis databases and VAR_DIR (scripts/test.sh loads this
plugin with ``-p``, so it runs before Django reads its settings).

The suite runs in two processes (pytest-xdist, ``-n``), and pytest-django gives each its own
PostgreSQL test database. Redis and VAR_DIR need the same: tests empty the cache and the
broker queue, and look for files written under VAR_DIR, so one process's clean-up would wipe
another's rate-limit counters, queued tasks or emails. Run without xdist, this does nothing.
"""

import os
import re

MAX_PROCESSES = 3  # broker databases 15-13 and cache databases 12-10 stay apart

worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...: set by xdist
if worker:
    number = int(worker.removeprefix("gw"))
    if number >= MAX_PROCESSES:
        raise RuntimeError(f"scripts/test.sh runs at most {MAX_PROCESSES} test processes")
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        url = re.fullmatch(r"(redis://[^/]+/)(\d+)", os.environ.get(name, ""))
        if url is None or int(url[2]) < MAX_PROCESSES - 1:
            raise RuntimeError(f"{name} must be redis://host:port/N, N >= 2, to run in parallel")
        os.environ[name] = f"{url[1]}{int(url[2]) - number}"
    if var := os.environ.get("VAR_DIR"):
        os.environ["VAR_DIR"] = os.path.join(var, worker)
