import math
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.views.decorators.cache import never_cache

from config.security import same_origin_post
from factsheets.assessment import OUTCOMES
from factsheets.cache import sheet_for_form
from factsheets.models import FactSheet
from factsheets.selectors import moved_or_withdrawn, public_sheet, sheet_context
from factsheets.views import withdrawn_page

from . import services
from .forms import ConsultationRequestForm, ReportRequestForm
from .guards import (
    first_submission,
    forget_submission,
    limit_reached,
    submission_saved,
)
from .models import ConsultationRequest, ReportRequest, Urgency

OUTCOME_SALT = "leads.outcome"
OUTCOME_MAX_AGE = 3600  # seconds a confirmation page can be reloaded with its outcome


def _sheet(slug: str) -> FactSheet:
    """The sheet a form or confirmation page at this address is for: a published one (kept
    in the process), else the one that has moved from it or has been withdrawn since its
    page was loaded; what is sent from a page still open must not be lost."""
    try:
        return sheet_for_form(slug)
    except Http404:
        return moved_or_withdrawn(slug)


def _posted_sheet(request: HttpRequest, slug: str) -> FactSheet:
    """The sheet a form was sent from. Its page names it by id, since the address may have
    been given to another sheet since (a rename, then a new sheet there); pages from before
    the forms carried it say only their address."""
    posted = request.POST.get("sheet", "")
    pk = int(posted) if posted.isascii() and posted.isdigit() and len(posted) < 19 else None
    try:
        sheet = _sheet(slug)
    except Http404:
        if pk is None:
            raise
        sheet = None
    if pk is not None and (sheet is None or sheet.pk != pk):
        try:
            sheet = public_sheet(pk)
        except Http404:
            if sheet is None:  # neither names a sheet that is or was on the site
                raise
    return sheet


def _ticked_outcome(sheet, form):
    """What to do now about the signs ticked, by the saved rule. They are valid even when
    another field is not (no consent, say)."""
    return services.self_check_outcome(sheet, form.ticked_on_list())


def _show_errors(
    request: HttpRequest, sheet, form_name: str, form, *, status: int = 200
) -> HttpResponse:
    """The same sheet page again, with the bound form's errors and everything typed kept.

    Someone who ticked an emergency or urgent sign is told what to do now, above the errors:
    the form not being sent must not delay that. A withdrawn sheet's content is not shown
    again: its page says so, with the consultation form alone.
    """
    outcome = _ticked_outcome(sheet, form)
    if sheet.withdrawn:
        return withdrawn_page(request, sheet, outcome=outcome, failed_form=form, status=status)
    context = sheet_context(sheet) | {
        f"{form_name}_form": form,
        "failed_form": form,
        "outcome": outcome,
    }
    return render(request, "factsheets/detail.html", context, status=status)


def _limit_message(wait_seconds: int) -> str:
    if wait_seconds > 0:
        now = timezone.now()
        # Whole minutes, rounded up: "in 0 minutes" or a time too soon helps no one.
        then = now + timedelta(minutes=math.ceil(wait_seconds / 60))
        when = f"in {timeuntil(then, now)}"
    else:
        when = "later"
    return (
        "We have had a lot of requests from you, this email address or this phone number in a "
        "short time, so we could not take this one. "
        f"What you typed is still here: please send it again {when}. "
        "Anything you sent before has been kept. If you need help now, call NHS 111. "
        "In an emergency, call 999."
    )


def _over_limit(request: HttpRequest, sheet, form_name: str, form, wait: int) -> HttpResponse:
    form.add_error(None, _limit_message(wait))
    response = _show_errors(request, sheet, form_name, form, status=429)
    if wait > 0:
        response["Retry-After"] = str(wait)
    return response


def _accept(
    request: HttpRequest,
    slug: str,
    *,
    form_class: type[ReportRequestForm] | type[ConsultationRequestForm],
    form_name: str,
    sent_view: str,
    create: Callable[[FactSheet, dict], ReportRequest | ConsultationRequest],
) -> HttpResponse:
    """The shared POST flow of both forms: validate, drop bots and repeats, limit, save."""
    sheet = _posted_sheet(request, slug)
    form = form_class(request.POST, sheet=sheet)
    if sheet.withdrawn:
        if form_name == "report":
            # Its content is not sent out any more (the worker would refuse it too): say so
            # now, keep nothing, and still say what to do about the signs ticked.
            form.is_valid()
            outcome = _ticked_outcome(sheet, form)
            return withdrawn_page(request, sheet, outcome=outcome, report_refused=True, status=410)
        form.keep_ticks_hidden()  # its list is not shown again
    if not form.is_valid():
        return _show_errors(request, sheet, form_name, form)
    data = form.cleaned_data
    if form.is_bot:
        # Looks like success to the bot; nothing is saved or sent.
        return _redirect_with_outcome(sent_view, sheet, Urgency.NONE)
    outcome = services.self_check_outcome(sheet, data.get("symptoms", [])).key
    claim = first_submission(form=form_name, sheet=sheet.pk, data=data, outcome=outcome)
    if claim.repeat_of is not None:  # a double click or a refreshed POST: same answer, no row
        # Unless this sender is over the limits: otherwise "sent" here and "too many" for
        # anything else would tell someone out of allowance which name, address and ticks
        # another person has just sent.
        wait = limit_reached(request, form=form_name, count=False)
        if wait is None:
            return _redirect_with_outcome(sent_view, sheet, claim.repeat_of)
        return _over_limit(request, sheet, form_name, form, wait)
    wait = limit_reached(request, form=form_name)
    if wait is not None:
        # Not taken, so not remembered as taken; the form comes back as typed, with when to
        # send it again (and, above it, what to do now about any signs ticked).
        forget_submission(claim, form=form_name, sheet=sheet.pk, data=data)
        return _over_limit(request, sheet, form_name, form, wait)
    try:
        record = create(sheet, data)
    except BaseException:
        # Not saved (the database went away, say): the person will see the error page and
        # send it again, and that must be saved, not confirmed as a repeat of this one.
        forget_submission(claim, form=form_name, sheet=sheet.pk, data=data)
        raise
    outcome = record.outcome.key
    submission_saved(form=form_name, sheet=sheet.pk, data=data, outcome=outcome)
    return _redirect_with_outcome(sent_view, sheet, outcome)


def posted_from_sheet(form_id: str):
    """A form's address takes its POST. Visited (a bookmark, a restored tab, the address bar
    after an error page), it sends the person to that form on the sheet, where the 999 advice
    is, rather than to a bare "405 Method Not Allowed"."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, slug: str) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                sheet_url = reverse("factsheets:detail", kwargs={"slug": slug})
                return redirect(f"{sheet_url}#{form_id}")
            if request.method != "POST":
                return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
            return view(request, slug)

        return wrapped

    return decorator


@never_cache
@posted_from_sheet("report-form")
@same_origin_post
def request_report(request: HttpRequest, slug: str) -> HttpResponse:
    def create(sheet: FactSheet, data: dict) -> ReportRequest:
        return services.create_report_request(
            sheet=sheet,
            name=data["name"],
            email=data["email"],
            ticked_flag_ids=data.get("symptoms", []),
            cancer_history=data.get("cancer_history"),
        )

    return _accept(
        request,
        slug,
        form_class=ReportRequestForm,
        form_name="report",
        sent_view="leads:report_sent",
        create=create,
    )


@never_cache
@posted_from_sheet("consultation-form")
@same_origin_post
def request_consultation(request: HttpRequest, slug: str) -> HttpResponse:
    def create(sheet: FactSheet, data: dict) -> ConsultationRequest:
        return services.create_consultation_request(
            sheet=sheet,
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            best_time=data["best_time"],
            contact_method=data["contact_method"],
            description=data["description"],
            pain_duration=data["pain_duration"],
            ticked_flag_ids=data.get("symptoms", []),
            cancer_history=data.get("cancer_history"),
        )

    return _accept(
        request,
        slug,
        form_class=ConsultationRequestForm,
        form_name="consultation",
        sent_view="leads:consultation_sent",
        create=create,
    )


def outcome_token(key: str) -> str:
    """What the confirmation URL carries so the page can show the outcome again: a random
    nonce, a time and a signature over the nonce *and the outcome's key*, but not the key.
    The URL lands in access logs and browser history, and whether someone's self-check came
    out as an emergency is health data; signed alone it would be readable (base64)."""
    signer = signing.TimestampSigner(salt=OUTCOME_SALT)
    nonce, _key, stamp, signature = signer.sign(f"{secrets.token_urlsafe(9)}:{key}").split(":")
    return f"{nonce}:{stamp}:{signature}"


def outcome_from_token(token: str) -> str | None:
    """The outcome an outcome_token() was made for (there are five to try), or None when it
    is not one of ours or is more than an hour old."""
    signer = signing.TimestampSigner(salt=OUTCOME_SALT)
    nonce, _, rest = token.partition(":")
    for key in OUTCOMES:
        try:
            signer.unsign(f"{nonce}:{key}:{rest}", max_age=OUTCOME_MAX_AGE)
        except signing.BadSignature:  # also raised when too old (SignatureExpired)
            continue
        return key
    return None


def _redirect_with_outcome(view: str, sheet, outcome_key: str) -> HttpResponse:
    """Post/redirect/get; the URL carries no personal data and does not show the outcome."""
    token = outcome_token(outcome_key)
    return redirect(f"{reverse(view, kwargs={'slug': sheet.slug})}?outcome={token}")


def _outcome_from(request: HttpRequest):
    return OUTCOMES.get(outcome_from_token(request.GET.get("outcome", "")))


@never_cache
def report_sent(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = _sheet(slug)
    if sheet.withdrawn:  # since the report was asked for: it will not be sent
        return withdrawn_page(request, sheet, outcome=_outcome_from(request), report_unsent=True)
    context = {"sheet": sheet, "outcome": _outcome_from(request)}
    return render(request, "leads/report_sent.html", context)


@never_cache
def consultation_sent(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = _sheet(slug)
    context = {"sheet": sheet, "outcome": _outcome_from(request)}
    return render(request, "leads/consultation_sent.html", context)
