"""The site's own settings, plus one reference view (bench/urls.py).

The sheet page and the reference are served by the same gunicorn under these settings, so both
go through exactly the same middleware; the only difference is where the bytes come from.
"""

from config.settings import *  # noqa: F403 (the bench adds to the real settings, nothing else)

ROOT_URLCONF = "bench.urls"
