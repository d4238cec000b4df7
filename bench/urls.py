"""The site's URLs plus the bench's references: for target 1, the same bytes as the sheet page,
returned from memory by the most trivial view Django can have; for target 4, the cheapest
report-form POSTs this stack can serve (the floors)."""

import functools
import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as site_urlpatterns
from factsheets.cache import sheet_for_form
from leads.models import REPORT_CONSENT_VERSION, ReportRequest
from reports.tasks import send_report

REFERENCE_URL = "bench/same-bytes/"
FLOOR_STEPS = ("read", "insert", "enqueue")


@functools.cache
def _page() -> bytes:
    # Written by bench.run once gunicorn is up: the sheet page's body as a visitor gets it.
    # Read on the first request, then only ever returned from memory.
    return Path(os.environ["BENCH_PAGE_FILE"]).read_bytes()


def same_bytes(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_page())


@csrf_exempt  # bench settings only; the floor leaves out everything the real form adds
@require_POST
def post_floor(request: HttpRequest, step: str, slug: str) -> HttpResponse:
    """A report-form POST with nothing but the bare minimum, in three steps:

    - read: Django's request and response cycle, the form body parsed, a redirect;
    - insert: and one ORM INSERT of the request row (no validation, no history row, no
      transaction beyond the statement's own);
    - enqueue: and the Celery task that sends the report.

    No rate limits, double-click guard, form validation or self-check outcome: what is left is
    what any post that writes a row and enqueues a task costs on this stack.
    """
    name, email = request.POST["report-name"], request.POST["report-email"]
    if step != "read":
        [row] = ReportRequest.objects.bulk_create([
            ReportRequest(
                sheet=sheet_for_form(slug), name=name, email=email,
                consent_version=REPORT_CONSENT_VERSION, consented_at=timezone.now(),
            )
        ])  # fmt: skip
        if step == "enqueue":
            send_report.delay(row.pk)
    return HttpResponseRedirect(f"/factsheets/{slug}/report/sent/")


urlpatterns = [
    path(REFERENCE_URL, same_bytes, name="bench_same_bytes"),
    *(path(f"bench/floor/{s}/<slug:slug>/", post_floor, {"step": s}) for s in FLOOR_STEPS),
    *site_urlpatterns,
]
