"""The public pages and the forms' sheets, kept in each web process until the content changes.

A sheet page is the same bytes for every visitor, so each web process renders it once and keeps
it, encoded and with its ETag, in memory: a page view then costs what returning bytes from
memory costs (issue #6, target 1; docs/performance.md). The form posts keep the sheet and its
red flags the same way, instead of asking the database for them on every post.

What is kept belongs to one *generation* of the content. Any save or delete of a sheet or its
parts starts a new generation at once in the process that made it and, when its transaction
commits, in every other web process: a message on a Redis pub/sub channel, which each process
reads (without waiting) before it serves anything it keeps. So an edit in admin shows on the
very next page view, whichever process serves it, and nothing rendered from the old content
is kept after the new content is committed.

While a process is not subscribed (Redis is away, or it has just started) it cannot hear of
edits, so it keeps nothing and renders every page from the database: slower, never stale.
When it subscribes again, everything it kept before is dropped. A link that dies without
closing (a firewall dropping an idle connection, say) would look like a quiet channel, so a
process also asks Redis, every second it is busy, to answer on the channel (PING); it serves
what it keeps only while Redis has answered within the last few seconds (``TRUST_SECONDS``),
and an idle process asks, and waits for the answer, before serving again. Without a Redis
URL (the embedded mode's single process) the process's own edits are all there are.
"""

import contextlib
import hashlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.utils.http import http_date, quote_etag

from .models import FactSheet

logger = logging.getLogger(__name__)

# Seconds a browser (max-age) or a shared cache such as nginx (s-maxage) may reuse a page
# before revalidating; short, so a corrected red flag reaches readers within about a minute.
BROWSER_MAX_AGE = 60
SHARED_CACHE_MAX_AGE = 10
# How long a process waits before trying Redis again after failing to subscribe.
RESUBSCRIBE_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5
# How often a busy process asks Redis to answer on the channel, and for how long after its last
# answer it still trusts that it has heard every message: if the link has died without closing,
# edits made since are missed for at most this long. An answer on the channel comes after every
# message published before it (one connection, in order), so it confirms none was missed.
CONFIRM_SECONDS = 1.0
TRUST_SECONDS = 3.0


def _cache_control() -> str:
    response = HttpResponse()
    patch_cache_control(
        response, public=True, max_age=BROWSER_MAX_AGE, s_maxage=SHARED_CACHE_MAX_AGE
    )
    return response["Cache-Control"]


CACHE_CONTROL = _cache_control()


def _redis(url: str) -> redis.Redis:
    # No silent retries: a dropped subscription must be noticed, since messages sent while it
    # was down are lost (after it, everything kept is dropped).
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
    )


def _channel() -> str:
    # Named after the database (read now: the test runner renames it), so that processes
    # serving the same content, and only they, hear each other.
    return f"spinal-clinic:{connections['default'].settings_dict['NAME']}:content-changed"


class Generation:
    """This process's content generation: moved on by every committed edit, anywhere."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0
        self._pid = os.getpid()
        self._pubsub: Any = None
        self._retry_at = 0.0
        self._publisher: redis.Redis | None = None
        # When the last answered PING was sent (all messages up to then are counted), and when
        # the one not yet answered was sent (None: none is waiting).
        self._confirmed_at = 0.0
        self._ping_sent_at: float | None = None

    def current(self) -> int | None:
        """The generation now, or None when this process cannot hear of edits (keep nothing)."""
        url = settings.PAGE_INVALIDATION_URL
        if not url:
            return self._value
        if self._nothing_new():
            return self._value
        with self._lock:
            if self._pid != os.getpid():
                # A forked child (gunicorn, Celery): the parent's socket is not this process's.
                self._pid, self._pubsub, self._publisher = os.getpid(), None, None
                self._value += 1
            if self._pubsub is None and not self._subscribe(url):
                return None
            try:
                self._read_messages()
                answering = self._answering()
            except (redis.RedisError, OSError):
                answering = False
            if not answering:  # closed, or silent for too long: messages may have been lost
                logger.warning("Lost the page invalidation channel; rendering pages directly")
                self._drop()
                return None
            return self._value

    def _read_messages(self, timeout: float = 0) -> None:
        """Count every message waiting (waiting up to ``timeout`` for the first)."""
        while (message := self._pubsub.get_message(timeout=timeout)) is not None:
            timeout = 0
            if message["type"] == "message":
                self._value += 1
            elif message["type"] == "pong" and self._ping_sent_at is not None:
                self._confirmed_at, self._ping_sent_at = self._ping_sent_at, None

    def _answering(self) -> bool:
        """Ask Redis to answer now and then; False when it has gone quiet for too long."""
        now = time.monotonic()
        if self._ping_sent_at is None and now - self._confirmed_at >= CONFIRM_SECONDS:
            self._pubsub.ping()
            self._ping_sent_at = now
        if now - self._confirmed_at < TRUST_SECONDS:
            return True
        # Not confirmed lately: this process was idle (it has just asked: wait for the answer)
        # or the link has died without closing (the answer is already overdue).
        deadline = self._ping_sent_at + REDIS_TIMEOUT_SECONDS
        while self._ping_sent_at is not None and (left := deadline - time.monotonic()) > 0:
            self._read_messages(timeout=left)
        return self._ping_sent_at is None

    def _nothing_new(self) -> bool:
        """True when no message can be waiting: the fast path of every page view.

        One ``select`` on the subscription's socket, without the lock: asking redis-py itself
        (``get_message``) costs several system calls a view. Whoever reads messages holds the
        lock until it has counted them all, and leaves redis-py's buffer empty, so an idle
        lock and an unreadable socket mean there is nothing this process has not counted.
        """
        pubsub = self._pubsub
        if pubsub is None or self._pid != os.getpid() or self._lock.locked():
            return False
        unconfirmed = time.monotonic() - self._confirmed_at
        if unconfirmed >= TRUST_SECONDS or (
            unconfirmed >= CONFIRM_SECONDS and self._ping_sent_at is None
        ):
            return False  # time to ask Redis to answer, or to check that it has
        sock = getattr(pubsub.connection, "_sock", None)  # None once closed or if redis-py
        if sock is None:  # ever names it otherwise: the locked path below then does it all
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):  # closed by another thread just now
            return False
        return not readable and not self._lock.locked()

    def _subscribe(self, url: str) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        try:
            asked = time.monotonic()
            pubsub = _redis(url).pubsub()
            pubsub.subscribe(_channel())
            # Only once Redis confirms the subscription are later messages sure to arrive.
            confirmed = pubsub.get_message(timeout=REDIS_TIMEOUT_SECONDS)
            if not confirmed or confirmed["type"] != "subscribe":
                raise redis.ConnectionError("no subscription confirmed")
        except (redis.RedisError, OSError):
            logger.warning(
                "Cannot subscribe to page invalidations; rendering pages directly", exc_info=True
            )
            self._retry_at = time.monotonic() + RESUBSCRIBE_SECONDS
            return False
        self._pubsub = pubsub
        self._confirmed_at, self._ping_sent_at = asked, None
        self._value += 1  # edits made while this process was not listening: start afresh
        return True

    def _drop(self) -> None:
        with contextlib.suppress(redis.RedisError, OSError):
            self._pubsub.close()
        self._pubsub = None
        self._ping_sent_at = None
        self._value += 1
        self._retry_at = time.monotonic() + RESUBSCRIBE_SECONDS

    def move_on(self) -> None:
        """Start a new generation in this process (another process's edit, or our own)."""
        with self._lock:
            self._value += 1

    def announce(self) -> None:
        """Tell every web process that the content has changed (after the edit committed)."""
        self.move_on()
        url = settings.PAGE_INVALIDATION_URL
        if not url:
            return
        try:
            if self._publisher is None:
                self._publisher = _redis(url)
            self._publisher.publish(_channel(), "changed")
        except (redis.RedisError, OSError):
            # Every process subscribes to this same Redis: if it is away, they are not
            # keeping pages either, and they drop what they kept when they subscribe again.
            logger.error("Could not announce a content change to the web processes", exc_info=True)


generation = Generation()


def content_changed(sender=None, instance=None, **kwargs) -> None:
    """Signal receiver for any save or delete of a sheet or its parts (factsheets/apps.py).

    At once here (so this process never serves the old page again, even before the commit),
    and everywhere when the transaction commits (nothing if it rolls back). A sheet's
    publication changes the related links on others and the home list, so every page goes,
    not only the sheet's own. An admin save that touches many rows announces once per row:
    each costs a Redis publish here and a counter bump in each process.
    """
    generation.move_on()
    transaction.on_commit(generation.announce)


@dataclass(frozen=True)
class _Page:
    body: bytes
    etag: str
    last_modified: str | None

    def response(self) -> HttpResponse:
        response = HttpResponse(self.body)
        # The ETag ConditionalGetMiddleware would compute, computed once per page.
        response["ETag"] = self.etag
        if self.last_modified:
            response["Last-Modified"] = self.last_modified
        response["Cache-Control"] = CACHE_CONTROL
        return response


_pages: dict[str, tuple[int, _Page]] = {}
_sheets: dict[str, tuple[int, FactSheet]] = {}


# Renders of the same thing wait for each other, so that after a start or an edit a busy process
# renders each page once, not once per thread. A few locks shared by key, so that requests for
# made-up addresses cannot make the process keep a lock for each.
_render_locks = [threading.RLock() for _ in range(16)]  # re-entrant: a build may keep another


def _kept[T](store: dict[str, tuple[int, T]], key: str, build: Callable[[], T]) -> T:
    """``store[key]`` as kept for this generation, or ``build()``-ed and kept."""
    current = generation.current()
    kept = store.get(key)
    if current is not None and kept is not None and kept[0] == current:
        return kept[1]
    if current is None:  # cannot hear of edits: keep nothing
        return build()
    with _render_locks[hash(key) % len(_render_locks)]:
        current = generation.current()  # another thread may have built it meanwhile
        kept = store.get(key)
        if current is not None and kept is not None and kept[0] == current:
            return kept[1]
        value = build()
        # Kept only if no edit arrived while it was built (it may have read old rows).
        if current is not None and generation.current() == current:
            store[key] = (current, value)
    return value


def cached_page(
    name: str, render: Callable[[], tuple[str, datetime | None]], request: HttpRequest
) -> HttpResponse:
    """The page ``name`` as kept for this generation, or ``render()``-ed and kept."""
    return _kept(_pages, name, lambda: _build(render)).response()


def _build(render: Callable[[], tuple[str, datetime | None]]) -> _Page:
    html, last_modified = render()
    body = html.encode()
    return _Page(
        body=body,
        etag=quote_etag(hashlib.md5(body, usedforsecurity=False).hexdigest()),
        last_modified=http_date(last_modified.timestamp()) if last_modified else None,
    )


def sheet_for_form(slug: str) -> FactSheet:
    """A published sheet with its red flags, as the forms and confirmation pages need it.

    Kept like the pages; treat it as read-only, as it is shared between requests. A form shown
    again with its errors reads the rest of the sheet (sections, tables...) from the database.
    """
    return _kept(
        _sheets,
        slug,
        lambda: get_object_or_404(
            FactSheet.objects.published().prefetch_related("red_flags"), slug=slug
        ),
    )


def forget_everything() -> None:
    """Drop what this process keeps (tests that change rows without signals, e.g. update())."""
    generation.move_on()
    _pages.clear()
    _sheets.clear()
