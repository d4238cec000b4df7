"""Abuse limits on the patient forms: rate limits, and one request per double click."""

import contextlib
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django_ratelimit.core import get_usage

from .models import ContactMethod
from .privacy import person_key

logger = logging.getLogger(__name__)


class KeyedHash:
    """How django-ratelimit names its counters in the cache (RATELIMIT_HASH_ALGORITHM): keyed
    with the site's secret. Its default, a plain SHA-256 of the form, the email address and the
    time window, lets anyone who can read the cache check whether a given address (or IP
    address) sent a consultation request this hour, as for the double-click guard below."""

    def __init__(self, data: bytes) -> None:
        self._hmac = salted_hmac("leads.guards.ratelimit", data, algorithm="sha256")

    def hexdigest(self) -> str:
        return self._hmac.hexdigest()


def _email_key(group: str, request: HttpRequest) -> str:
    """The address this form's own email field names, in one form per mailbox: lower case,
    no "+tag", no quotes, backslashes or dots in the part before the @ and the domain in its
    ASCII form, so "Ada+1@Example.com", '"a.da"@example.com' and "ada@example.com" share one
    allowance. Most mail servers deliver all of them to one mailbox (Gmail ignores the dots;
    elsewhere two people whose addresses differ only by a dot share a limit, which only makes
    it stricter). Only the posted form's field counts: another form's field added to the post
    must not move it onto a fresh allowance."""
    form = group.split(".")[1]  # "leads.<form>.email"
    email = request.POST.get(f"{form}-email", "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    with contextlib.suppress(UnicodeError):  # not a valid domain: the form refuses it anyway
        domain = domain.encode("idna").decode("ascii")
    local = local.split("+", 1)[0].translate(str.maketrans("", "", '".\\'))
    return f"{local}@{domain}"


def _phone_key(group: str, request: HttpRequest) -> str:
    """The number the clinic is asked to ring, in international form, so "07911 123456" and
    "+44 7911 123456" share one allowance; "" when the request asks to be emailed or called by
    video (the number is only a fallback, and may be a household's shared landline)."""
    form = group.split(".")[1]  # "leads.<form>.phone"
    if request.POST.get(f"{form}-contact_method") != ContactMethod.PHONE:
        return ""
    return person_key(request.POST.get(f"{form}-phone", ""))


def limit_reached(request: HttpRequest, *, form: str, count: bool = True) -> int | None:
    """Count this post against the per-IP, per-email and per-phone-number limits. Returns None
    while all hold; over any, the seconds until the person may send again (0 when that is not
    known). The phone number's limit, for requests to be phoned, stops one number being given
    in request after request from many addresses (someone asking the clinic to ring another
    person again and again).

    Called to count only for a post that would be saved: a form sent back with a mistake, a
    repeat of one already taken or a bot's post does not use up anyone's allowance. A repeat
    is checked with ``count=False``: not counted, but given the answer anything else from
    this sender would get.
    If the shared cache is away the request is let through: a patient must still reach us.
    """
    try:
        return _limit_reached(request, form=form, increment=count)
    except Exception:
        logger.warning("Rate-limit cache unavailable; letting the request through", exc_info=True)
        return None


def _limit_reached(request: HttpRequest, *, form: str, increment: bool) -> int | None:
    group = f"leads.{form}"
    limits = [(group + ".ip", "ip", settings.FORM_RATE_PER_IP)]
    if _email_key(group + ".email", request):
        limits.append((group + ".email", _email_key, settings.FORM_RATE_PER_EMAIL))
    if _phone_key(group + ".phone", request):
        limits.append((group + ".phone", _phone_key, settings.FORM_RATE_PER_PHONE))
    waits = []
    for name, key, rate in limits:
        usage = get_usage(request, group=name, key=key, rate=rate, increment=increment)
        if usage is not None and not increment:
            # Not counted, but judged as if it were: over when one more would be over.
            usage["should_limit"] = usage["count"] >= usage["limit"]
        if usage is not None and usage["should_limit"]:
            waits.append(max(usage["time_left"], 0))
    return max(waits) if waits else None


def _submission_key(form: str, sheet: int, data: dict) -> str:
    """Keyed with the site's secret: a plain hash of a name, an email and the signs ticked
    could be matched by anyone who guesses them and can read the cache. By the sheet's id,
    not its address: a post sent again after the sheet was renamed is still a repeat."""
    payload = json.dumps([form, sheet, data], sort_keys=True, default=str)
    return "leads:submission:" + salted_hmac(_SALT, payload, algorithm="sha256").hexdigest()


_SALT = "leads.guards.submission"

# What the guard holds while the first of two identical posts is being saved: the second
# waits to learn whether it was, rather than confirming what may never be saved.
_PENDING = "pending:"
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Claim:
    """What first_submission() found."""

    repeat_of: str | None = None  # an identical submission was saved, with this outcome
    holds_mark: bool = False  # this post holds the "being saved" mark and must settle it


def first_submission(*, form: str, sheet: int, data: dict, outcome: str) -> Claim:
    """Claim this submission as the first of its kind, or learn it repeats one already saved
    (a double click or a refreshed POST: answer with ``repeat_of``, make no new row).

    Otherwise save it, then call submission_saved(); if it is not saved and the claim
    ``holds_mark``, call forget_submission(), so that sending it again saves it.

    While an identical submission is still being saved, wait for it: if it is saved, this is
    its repeat; if it fails, this one takes its place. If it takes longer than
    DUPLICATE_PENDING_WAIT, this one is saved as well, without the mark: two rows are better
    than none. Without the cache every submission is taken: losing one is worse than a
    duplicate.
    """
    key = _submission_key(form, sheet, data)
    deadline = time.monotonic() + settings.DUPLICATE_PENDING_WAIT
    try:
        while True:
            if cache.add(key, _PENDING + outcome, timeout=settings.DUPLICATE_PENDING_TIMEOUT):
                return Claim(holds_mark=True)
            state = cache.get(key)
            if state is not None and not state.startswith(_PENDING):
                return Claim(repeat_of=state)
            if time.monotonic() >= deadline:
                logger.warning("An identical submission is still being saved; saving this too")
                return Claim()
            if state is not None:
                time.sleep(_POLL_SECONDS)  # still being saved; if the key is gone, take it now
    except Exception:
        return Claim()


def submission_saved(*, form: str, sheet: int, data: dict, outcome: str) -> None:
    """The submission taken by first_submission() is saved: repeats of it within
    DUPLICATE_SUBMISSION_WINDOW are now answered with this outcome and not saved again."""
    try:
        key = _submission_key(form, sheet, data)
        cache.set(key, outcome, timeout=settings.DUPLICATE_SUBMISSION_WINDOW)
    except Exception:
        logger.warning("Could not record a saved submission for the double-click guard")


def forget_submission(claim: Claim, *, form: str, sheet: int, data: dict) -> None:
    """Undo first_submission() for a submission that was not saved, so sending it again
    (or the identical post waiting on it) saves it. Only the post holding the mark does:
    another's would clear a mark that is not its own. Without the cache nothing was
    remembered, so there is nothing to undo."""
    if not claim.holds_mark:
        return
    try:
        cache.delete(_submission_key(form, sheet, data))
    except Exception:
        logger.warning("Could not clear the double-click guard for an unsaved submission")
