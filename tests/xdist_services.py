"""Each test process gets its own Redis databases and VAR_DIR (scripts/test.sh loads this
plugin with ``-p``, so it runs before Django reads its settings).

The suite runs in two processes (pytest-xdist, ``-n``), and pytest-django gives each its own
PostgreSQL test database. Redis and VAR_DIR need the same: tests empty the cache and the
broker queue, and look for files written under VAR_DIR, so one process's clean-up would wipe
another's rate-limit counters, queued tasks or emails. Run without xdist, this does nothing;
plain `pytest -n 2` without it would share them (hence scripts/test.sh).
"""

import os
import re

MAX_PROCESSES = 3

worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...: set by xdist
if worker:
    number = int(worker.removeprefix("gw"))
    if number >= MAX_PROCESSES:
        raise RuntimeError(f"scripts/test.sh runs at most {MAX_PROCESSES} test processes")
    # Worker N takes database (base - N) of each: the two ranges of MAX_PROCESSES must not meet.
    bases = {}
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        url = re.fullmatch(r"(redis://[^/]+/)(\d+)", os.environ.get(name, ""))
        if url is None:
            raise RuntimeError(f"{name} must be redis://host:port/N to run tests in parallel")
        bases[name] = (url[1], int(url[2]))
    ranges = [{(prefix, base - n) for n in range(MAX_PROCESSES)} for prefix, base in bases.values()]
    if ranges[0] & ranges[1] or min(base for _, base in bases.values()) < MAX_PROCESSES - 1:
        raise RuntimeError(
            f"CELERY_BROKER_URL and CACHE_URL need Redis databases at least {MAX_PROCESSES} "
            "apart, and numbered 2 or more, to run tests in parallel"
        )
    for name, (prefix, base) in bases.items():
        os.environ[name] = f"{prefix}{base - number}"
    if var := os.environ.get("VAR_DIR"):
        os.environ["VAR_DIR"] = os.path.join(var, worker)
