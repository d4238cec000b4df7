from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.security import same_origin_post
from factsheets.assessment import OUTCOMES
from factsheets.selectors import get_published_sheet, sheet_context

from . import services
from .forms import ConsultationRequestForm, ReportRequestForm

OUTCOME_SALT = "leads.outcome"


def _show_errors(request: HttpRequest, sheet, **forms) -> HttpResponse:
    """The same sheet page again, with the bound form's errors and everything typed kept."""
    context = sheet_context(sheet) | forms
    return render(request, "factsheets/detail.html", context)


@require_POST
@same_origin_post
@never_cache
def request_report(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    form = ReportRequestForm(request.POST, sheet=sheet)
    if not form.is_valid():
        return _show_errors(request, sheet, report_form=form, failed_form=form)
    data = form.cleaned_data
    report = services.create_report_request(
        sheet=sheet,
        name=data["name"],
        email=data["email"],
        ticked_flag_ids=data.get("symptoms", []),
        cancer_history=data.get("cancer_history"),
    )
    return _redirect_with_outcome("leads:report_sent", sheet, report.urgency)


@require_POST
@same_origin_post
@never_cache
def request_consultation(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    form = ConsultationRequestForm(request.POST, sheet=sheet)
    if not form.is_valid():
        return _show_errors(request, sheet, consultation_form=form, failed_form=form)
    data = form.cleaned_data
    consultation = services.create_consultation_request(
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
    return _redirect_with_outcome("leads:consultation_sent", sheet, consultation.urgency)


def _redirect_with_outcome(view: str, sheet, level: str) -> HttpResponse:
    """Post/redirect/get, carrying only the outcome level (signed; no personal data)."""
    token = signing.dumps(level, salt=OUTCOME_SALT)
    return redirect(f"{reverse(view, kwargs={'slug': sheet.slug})}?outcome={token}")


def _outcome_from(request: HttpRequest):
    try:
        level = signing.loads(request.GET.get("outcome", ""), salt=OUTCOME_SALT, max_age=3600)
    except signing.BadSignature:
        level = None
    return OUTCOMES.get(level)


@never_cache
def report_sent(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    context = {"sheet": sheet, "outcome": _outcome_from(request)}
    return render(request, "leads/report_sent.html", context)


@never_cache
def consultation_sent(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    context = {"sheet": sheet, "outcome": _outcome_from(request)}
    return render(request, "leads/consultation_sent.html", context)
