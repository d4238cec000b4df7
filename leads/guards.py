"""Abuse limits on the patient forms: rate limits, and one request per double click."""

import hashlib
import json
import logging

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


def first_submission(*, form: str, slug: str, data: dict, outcome: str) -> str | None:
    """Remember this submission; returns None the first time, or the outcome stored when the
    same submission came before (a double click or a refreshed POST), so no new row is made.

    If saving it then fails, call forget_submission(): otherwise the person's retry would be
    taken for a repeat and confirmed with nothing saved."""
    key = _submission_key(form, slug, data)
    try:
        if cache.add(key, outcome, timeout=settings.DUPLICATE_SUBMISSION_WINDOW):
            return None
        return cache.get(key) or outcome
    except Exception:  # without the cache, accept the request: losing one is worse
        return None


def forget_submission(*, form: str, slug: str, data: dict) -> None:
    """Undo first_submission() for a submission that was not saved, so sending it again
    saves it. Without the cache nothing was remembered, so there is nothing to undo."""
    try:
        cache.delete(_submission_key(form, slug, data))
    except Exception:
        logger.warning("Could not clear the double-click guard for an unsaved submission")
