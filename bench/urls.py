"""The site's URLs plus the reference for target 1: the same bytes as the sheet page, returned
from memory by the most trivial view Django can have."""

import functools
import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns

REFERENCE_URL = "bench/same-bytes/"


@functools.cache
def _page() -> bytes:
    # Written by bench.run once gunicorn is up: the sheet page's body as a visitor gets it.
    # Read on the first request, then only ever returned from memory.
    return Path(os.environ["BENCH_PAGE_FILE"]).read_bytes()


def same_bytes(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_page())


urlpatterns = [path(REFERENCE_URL, same_bytes, name="bench_same_bytes"), *site_urlpatterns]
