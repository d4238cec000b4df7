"""Abuse limits on the patient forms: rate limits, and one request per double click."""

import hashlib
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)


def _email_key(group: str, request: HttpRequest) -> str:
    email = request.POST.get("report-email") or request.POST.get("consultation-email") or ""
    return email.strip().lower()


def over_limit(request: HttpRequest, *, form: str) -> bool:
    """Count this POST against the per-IP and per-email limits; True when either is exceeded.

    If the shared cache is away the request is let through: a patient must still reach us.
    """
    request.POST  # noqa: B018 (parse here, so an oversized body still gets its 400, not swallowed)
    try:
        return _over_limit(request, form=form)
    except Exception:
        logger.warning("Rate-limit cache unavailable; letting the request through", exc_info=True)
        return False


def _over_limit(request: HttpRequest, *, form: str) -> bool:
    group = f"leads.{form}"
    by_ip = is_ratelimited(
        request, group=group + ".ip", key="ip", rate=settings.FORM_RATE_PER_IP, increment=True
    )
    by_email = bool(_email_key(group, request)) and is_ratelimited(
        request,
        group=group + ".email",
        key=_email_key,
        rate=settings.FORM_RATE_PER_EMAIL,
        increment=True,
    )
    return by_ip or by_email


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
