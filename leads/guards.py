"""Abuse limits on the patient forms: rate limits, and one request per double click."""

import hashlib
import json
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


def _email_key(group: str, request: HttpRequest) -> str:
    email = request.POST.get("report-email") or request.POST.get("consultation-email") or ""
    return email.strip().lower()


def limit_reached(request: HttpRequest, *, form: str) -> int | None:
    """Count this post against the per-IP and per-email limits. Returns None while both hold;
    over either, the seconds until the person may send again (0 when that is not known).

    Called only for a post that would be saved: a form sent back with a mistake, a repeat
    of one already taken or a bot's post does not use up anyone's allowance.
    If the shared cache is away the request is let through: a patient must still reach us.
    """
    try:
        return _limit_reached(request, form=form)
    except Exception:
        logger.warning("Rate-limit cache unavailable; letting the request through", exc_info=True)
        return None


def _limit_reached(request: HttpRequest, *, form: str) -> int | None:
    group = f"leads.{form}"
    limits = [(group + ".ip", "ip", settings.FORM_RATE_PER_IP)]
    if _email_key(group, request):
        limits.append((group + ".email", _email_key, settings.FORM_RATE_PER_EMAIL))
    waits = []
    for name, key, rate in limits:
        usage = get_usage(request, group=name, key=key, rate=rate, increment=True)
        if usage is not None and usage["should_limit"]:
            waits.append(max(usage["time_left"], 0))
    return max(waits) if waits else None


def _submission_key(form: str, slug: str, data: dict) -> str:
    payload = json.dumps([form, slug, data], sort_keys=True, default=str)
    return "leads:submission:" + hashlib.sha256(payload.encode()).hexdigest()


# What the guard holds while the first of two identical posts is being saved: the second
# waits to learn whether it was, rather than confirming what may never be saved.
_PENDING = "pending:"


def first_submission(*, form: str, slug: str, data: dict, outcome: str) -> str | None:
    """Take this submission as the first of its kind; returns None when it is (save it, then
    call submission_saved(), or forget_submission() if the save fails), or the outcome of an
    identical submission already saved (a double click or a refreshed POST): no new row.

    While an identical submission is still being saved, wait for it: if it is saved, this is
    its repeat; if it fails, this one becomes the first and is saved in its place. If it takes
    longer than DUPLICATE_PENDING_WAIT, this one is saved as well: two rows are better than
    none. Without the cache every submission is taken: losing one is worse than a duplicate.
    """
    key = _submission_key(form, slug, data)
    deadline = time.monotonic() + settings.DUPLICATE_PENDING_WAIT
    try:
        while True:
            if cache.add(key, _PENDING + outcome, timeout=settings.DUPLICATE_PENDING_TIMEOUT):
                return None
            state = cache.get(key)
            if state is not None and not state.startswith(_PENDING):
                return state  # saved, with this outcome
            if time.monotonic() >= deadline:
                logger.warning("An identical submission is still being saved; saving this too")
                return None
            if state is not None:
                time.sleep(0.05)  # still being saved; if the key is gone, take it at once
    except Exception:
        return None


def submission_saved(*, form: str, slug: str, data: dict, outcome: str) -> None:
    """The submission taken by first_submission() is saved: repeats of it within
    DUPLICATE_SUBMISSION_WINDOW are now answered with this outcome and not saved again."""
    try:
        key = _submission_key(form, slug, data)
        cache.set(key, outcome, timeout=settings.DUPLICATE_SUBMISSION_WINDOW)
    except Exception:
        logger.warning("Could not record a saved submission for the double-click guard")


def forget_submission(*, form: str, slug: str, data: dict) -> None:
    """Undo first_submission() for a submission that was not saved, so sending it again
    (or the identical post waiting on it) saves it. Without the cache nothing was
    remembered, so there is nothing to undo."""
    try:
        cache.delete(_submission_key(form, slug, data))
    except Exception:
        logger.warning("Could not clear the double-click guard for an unsaved submission")
