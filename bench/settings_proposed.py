"""bench/settings.py plus the changes proposed in bench/proposed.py, for the "with the
proposed changes" rows of targets 1 and 4. Not for anything but the benchmark."""

from bench.settings import *  # noqa: F403
from bench.settings import CACHES

CACHES = {"default": CACHES["default"] | {"BACKEND": "bench.proposed.ReusingRedisCache"}}
BENCH_PROPOSED = True  # bench/urls.py installs bench.proposed's page cache and post fetch
