"""Whole-page cache for the public pages, shared by every web process (Redis in production).

A sheet page is the same bytes for every visitor, so it is rendered once and kept until the
content changes; any save or delete of a sheet or its parts drops every cached page at once
(a sheet's publication changes the related-sheet links on others, and the home list).
"""

import logging
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import http_date

from .models import FactSheet

logger = logging.getLogger(__name__)

PREFIX = "factsheets:page:"
# Seconds a browser (max-age) or a shared cache such as nginx (s-maxage) may reuse a page
# before revalidating; short, so a corrected red flag reaches readers within about a minute.
BROWSER_MAX_AGE = 60
SHARED_CACHE_MAX_AGE = 10


def page_key(name: str) -> str:
    return PREFIX + name


def cached_page(
    name: str, render: Callable[[], tuple[str, datetime | None]], request: HttpRequest
) -> HttpResponse:
    try:
        entry = cache.get(page_key(name))
    except Exception:  # the cache being away must not take the page down with it
        logger.warning("Page cache unavailable; rendering %s directly", name, exc_info=True)
        entry, cache_up = None, False
    else:
        cache_up = True
    if entry is None:
        html, last_modified = render()
        entry = {
            "html": html,
            "last_modified": last_modified.timestamp() if last_modified else None,
        }
        if cache_up:
            cache.set(page_key(name), entry, timeout=None)
    response = HttpResponse(entry["html"])
    if entry["last_modified"]:
        response["Last-Modified"] = http_date(entry["last_modified"])
    patch_cache_control(
        response, public=True, max_age=BROWSER_MAX_AGE, s_maxage=SHARED_CACHE_MAX_AGE
    )
    return response


def invalidate_all_pages(sender=None, instance=None, **kwargs) -> None:
    slugs = set(FactSheet.objects.values_list("slug", flat=True))
    if isinstance(instance, FactSheet):
        slugs.add(instance.slug)  # a deleted or renamed sheet is no longer (so) in the table
    cache.delete_many([page_key("home"), *(page_key(f"sheet:{slug}") for slug in slugs)])
