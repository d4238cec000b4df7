from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from factsheets.selectors import get_published_sheet, sheet_context

from . import services
from .forms import ConsultationRequestForm, ReportRequestForm


def _show_errors(request: HttpRequest, sheet, **forms) -> HttpResponse:
    """The same sheet page again, with the bound form's errors and everything typed kept."""
    context = sheet_context(sheet) | forms
    return render(request, "factsheets/detail.html", context)


@require_POST
@never_cache
def request_report(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    form = ReportRequestForm(request.POST)
    if not form.is_valid():
        return _show_errors(request, sheet, report_form=form, failed_form=form)
    services.create_report_request(
        sheet=sheet, name=form.cleaned_data["name"], email=form.cleaned_data["email"]
    )
    return redirect("leads:report_sent", slug=sheet.slug)


@require_POST
@never_cache
def request_consultation(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    form = ConsultationRequestForm(request.POST)
    if not form.is_valid():
        return _show_errors(request, sheet, consultation_form=form, failed_form=form)
    data = form.cleaned_data
    services.create_consultation_request(
        sheet=sheet,
        name=data["name"],
        email=data["email"],
        phone=data["phone"],
        best_time=data["best_time"],
        contact_method=data["contact_method"],
        description=data["description"],
        pain_duration=data["pain_duration"],
    )
    return redirect("leads:consultation_sent", slug=sheet.slug)


@never_cache
def report_sent(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    return render(request, "leads/report_sent.html", {"sheet": sheet})


@never_cache
def consultation_sent(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    return render(request, "leads/consultation_sent.html", {"sheet": sheet})
