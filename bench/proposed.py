"""Changes proposed for code this work does not own (config/, factsheets/, leads/), written here
so the benchmark can measure them as a variant (gunicorn on bench.settings_proposed, which
bench/urls.py sees and installs these for). docs/performance.md says where each would go.

1. ``ReusingRedisCache`` (config/settings.py CACHES): Django's Redis backend builds a new
   ``redis.Redis`` client for every cache call, and each one sets up ~170 response callbacks
   (about a third of a millisecond here). One client per connection pool does the same work.
2. ``cached_page`` (factsheets/cache.py): keeps each page, already encoded and with its ETag,
   in the process for ``LOCAL_SECONDS`` in front of the shared cache, so most page views make
   no Redis round trip, no unpickling and no hashing. The price: after an edit, another web
   process may show the old page for up to ``LOCAL_SECONDS`` (the shared cache is still
   emptied at once, as now, and the editing process drops its own copy at once).
3. ``get_sheet_for_post`` (leads/views.py): a form post needs the sheet and its red flags, not
   the sections, tables, related sheets and sources that ``get_published_sheet`` prefetches
   for the page (4 of the post's 10 queries, ~40% of its CPU). A form shown again with errors
   still gets everything, fetched when the template asks.
"""

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import http_date

logger = logging.getLogger(__name__)

LOCAL_SECONDS = 2.0


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:  # redis.Redis is thread-safe: it takes a connection per command
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


_local: dict[str, tuple[float, dict]] = {}
_local_lock = threading.Lock()


def cached_page(
    name: str, render: Callable[[], tuple[str, datetime | None]], request: HttpRequest
) -> HttpResponse:
    """factsheets.cache.cached_page, with a short-lived copy in the process."""
    from factsheets import cache as page_cache

    now = time.monotonic()
    local = _local.get(name)
    if local is not None and now - local[0] < LOCAL_SECONDS:
        entry = local[1]
    else:
        try:
            shared = page_cache.cache.get(page_cache.page_key(name))
        except Exception:
            logger.warning("Page cache unavailable; rendering %s directly", name, exc_info=True)
            shared, cache_up = None, False
        else:
            cache_up = True
        if shared is None:
            html, last_modified = render()
            shared = {
                "html": html,
                "last_modified": last_modified.timestamp() if last_modified else None,
            }
            if cache_up:
                page_cache.cache.set(page_cache.page_key(name), shared, timeout=None)
        body = shared["html"].encode()
        entry = {
            "body": body,
            # The same strong ETag ConditionalGetMiddleware would compute, once per copy.
            "etag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
            "last_modified": http_date(shared["last_modified"])
            if shared["last_modified"]
            else None,
        }
        if cache_up:
            with _local_lock:
                _local[name] = (now, entry)
    response = HttpResponse(entry["body"])
    response["ETag"] = entry["etag"]
    if entry["last_modified"]:
        response["Last-Modified"] = entry["last_modified"]
    response["Cache-Control"] = f"public, max-age={page_cache.BROWSER_MAX_AGE}"
    return response


def drop_local_pages(**kwargs: Any) -> None:
    """Connected beside factsheets.cache.invalidate_all_pages: this process's copies go too."""
    with _local_lock:
        _local.clear()


def get_sheet_for_post(slug: str):
    from factsheets.models import FactSheet

    return get_object_or_404(FactSheet.objects.published().prefetch_related("red_flags"), slug=slug)


def install() -> None:
    """Swap the three in, for this process (bench/urls.py, under bench.settings_proposed)."""
    from django.db.models.signals import post_delete, post_save

    import factsheets.views
    import leads.views
    from factsheets import models

    factsheets.views.cached_page = cached_page
    leads.views.get_published_sheet = get_sheet_for_post
    for model in (
        models.FactSheet, models.RedFlag, models.Section, models.SheetTable,
        models.RelatedSheet, models.Source,
    ):  # fmt: skip
        for signal in (post_save, post_delete):
            signal.connect(drop_local_pages, sender=model, dispatch_uid=f"bench.{signal}.{model}")
