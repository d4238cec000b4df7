import hashlib
import logging
import threading
import time
from collections import OrderedDict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML, Document, Page
from weasyprint.text.fonts import FontConfiguration

from config.mail import build_templated_email
from factsheets.models import FactSheet
from factsheets.selectors import sheet_context
from leads.models import ReportRequest, ReportStatus
from leads.services import self_check_fields

from .fetcher import StaticOnlyURLFetcher

logger = logging.getLogger(__name__)

PDF_VARIANT = "pdf/ua-1"  # tagged, so screen readers can read the report
STYLESHEET_URL = "static:css/report.css"
# What the sheet part of the template uses; anything else in a report's context stays out.
SHEET_CONTEXT_KEYS = (
    "sheet", "emergency_flags", "urgent_flags", "soon_flags", "blocks", "related", "sources",
)  # fmt: skip
SHEET_PAGES_KEPT = 32  # sheets whose laid-out pages a worker keeps (a few MB each)
WARM_BUDGET_SECONDS = 30.0


class SheetWithdrawn(Exception):
    """The sheet a report was asked for is no longer published: it is not sent. Not worth a
    retry; the request is marked failed for staff to look at."""


def report_context(report: ReportRequest, sheet: FactSheet) -> dict:
    """What the patient's own page shows, on top of the sheet's own context."""
    context = sheet_context(sheet)
    return context | {
        # The page's links to other sheets are the site's own paths: in a PDF they need the
        # site's address, or a reader takes them for files on the patient's computer.
        "related": [(entry, url and settings.SITE_URL + url) for entry, url in context["related"]],
        "report": report,
        "generated_on": timezone.localdate(),
        "clinic_name": settings.CLINIC_NAME,
        # The outcome stored at submission, not a fresh one: what the person ticked and what
        # it meant then. The sheet's pages are its current version (the cover says when it
        # has changed since).
        "outcome": report.outcome,
    }


def render_report_html(report: ReportRequest) -> str:
    """The whole report as one HTML document (stylesheet linked), as a naive render takes it."""
    sheet = FactSheet.objects.with_content().get(pk=report.sheet_id)
    return render_to_string(
        "reports/report.html", report_context(report, sheet) | {"link_stylesheet": True}
    )


class ReportRenderer:
    """Renders report PDFs, keeping between reports what does not change.

    A worker process keeps one (see ``render_report_pdf``). What it reuses, each switchable so
    the benchmark can show what it buys (bench/pdf.py):

    - ``reuse_fonts``: one Fontconfig/Pango set-up with its font and shaping caches;
    - ``reuse_stylesheet``: report.css parsed once into a CSS object;
    - ``reuse_sheet_pages``: the laid-out pages of each sheet. A report is then the patient's
      own page laid out afresh plus the sheet's kept pages, joined into one document and
      tagged as one. The kept pages are keyed by the sheet part's HTML, which is rendered
      without the report in its context, so an edit makes new pages and nothing personal is
      kept. The patient's page is given the total page count as text: ``counter(pages)``
      otherwise makes WeasyPrint lay a document out twice, once to count the pages.

    The result is the same tagged PDF/UA-1 document as a naive render of the whole HTML.
    """

    def __init__(
        self,
        *,
        reuse_fonts: bool = True,
        reuse_stylesheet: bool = True,
        reuse_sheet_pages: bool = True,
        max_sheets: int = SHEET_PAGES_KEPT,
    ) -> None:
        self.reuse_fonts = reuse_fonts
        self.reuse_stylesheet = reuse_stylesheet
        self.reuse_sheet_pages = reuse_sheet_pages
        self.max_sheets = max_sheets
        self.url_fetcher = StaticOnlyURLFetcher()
        self._font_config: FontConfiguration | None = None
        self._stylesheet: CSS | None = None
        self._sheet_pages: OrderedDict[str, list[Page]] = OrderedDict()
        self._page_totals: dict[int, int] = {}

    # --- What is reused ---------------------------------------------------------------------

    def font_config(self) -> FontConfiguration:
        if not self.reuse_fonts:
            return FontConfiguration()
        if self._font_config is None:
            self._font_config = FontConfiguration()
        return self._font_config

    def stylesheets(self, font_config: FontConfiguration) -> list[CSS]:
        if not self.reuse_stylesheet:
            return []  # the HTML links report.css instead, fetched and parsed each time
        if self._stylesheet is None or not self.reuse_fonts:
            self._stylesheet = CSS(
                url=STYLESHEET_URL, url_fetcher=self.url_fetcher, font_config=font_config
            )
        return [self._stylesheet]

    # --- Rendering --------------------------------------------------------------------------

    def render(self, report: ReportRequest) -> bytes:
        sheet = FactSheet.objects.with_content().get(pk=report.sheet_id)
        context = report_context(report, sheet)
        if not self.reuse_sheet_pages:
            return self._render_html(self._html(context, part="whole")).write_pdf(
                pdf_variant=PDF_VARIANT
            )
        # The patient's pages come first, so the sheet's page numbers depend on how many there
        # are, and the patient's footer needs the total. The footer sits in the page margin
        # and cannot change how many pages the patient's part takes, so: lay that part out
        # with the total the last report on this sheet had (almost always right), take the
        # sheet's pages for that many, and only if the total differs lay it out again.
        total = self._page_totals.get(sheet.pk)
        cover = self._render_html(self._html(context, part="cover", page_total=total))
        cover_pages = len(cover.pages)
        sheet_pages = self._sheet_pages_after(cover_pages, sheet=sheet, context=context)
        if total != cover_pages + len(sheet_pages):
            total = cover_pages + len(sheet_pages)
            cover = self._render_html(self._html(context, part="cover", page_total=total))
        self._page_totals[sheet.pk] = total
        return cover.copy([*cover.pages, *sheet_pages]).write_pdf(pdf_variant=PDF_VARIANT)

    def warm(self, sheet: FactSheet) -> None:
        """Lay out a sheet's pages now, so the first report on it is as quick as the rest.

        Renders a report for a made-up patient who ticked nothing, which also settles how many
        pages the patient's part takes on this sheet. Nothing of it is sent or stored.
        """
        self.render(ReportRequest(sheet=sheet, name="", **self_check_fields(sheet, [], None)))

    def _sheet_pages_after(self, cover_pages: int, *, sheet: FactSheet, context: dict) -> list:
        # Only the sheet's own context: nothing about the patient may reach what is kept.
        sheet_only = {key: context[key] for key in SHEET_CONTEXT_KEYS} | {
            "clinic_name": settings.CLINIC_NAME,
            "cover_placeholder": range(cover_pages),
        }
        html = self._html(sheet_only, part="sheet")
        key = hashlib.sha256(html.encode()).hexdigest()
        pages = self._sheet_pages.get(key)
        if pages is None:
            pages = self._render_html(html).pages[cover_pages:]
            self._sheet_pages[key] = pages
            while len(self._sheet_pages) > self.max_sheets:
                self._sheet_pages.popitem(last=False)
        self._sheet_pages.move_to_end(key)
        return pages

    def _html(self, context: dict, *, part: str, page_total: int | None = None) -> str:
        return render_to_string(
            "reports/report.html",
            context
            | {
                "part": part,
                "page_total": page_total,
                "link_stylesheet": not self.reuse_stylesheet,
            },
        )

    def _render_html(self, html: str) -> Document:
        font_config = self.font_config()
        return HTML(string=html, url_fetcher=self.url_fetcher).render(
            font_config=font_config,
            stylesheets=self.stylesheets(font_config),
            pdf_variant=PDF_VARIANT,
        )


_renderer = ReportRenderer()
# Worker children render one report at a time; the lock only matters to a threaded pool, where
# WeasyPrint's shared Pango objects must not be used by two threads at once.
_render_lock = threading.Lock()


def render_report_pdf(report: ReportRequest) -> bytes:
    """The personalised PDF: a first page addressed to the patient, then the whole sheet."""
    with _render_lock:
        return _renderer.render(report)


def warm_report_renderer(*, budget_seconds: float = WARM_BUDGET_SECONDS) -> int:
    """Lay out the published sheets' pages ahead of the first report; returns how many.

    Called once in the worker's main process before it forks its children, which then start
    with the fonts, the stylesheet and the sheets' pages already in memory. Stops after
    ``budget_seconds``; a sheet left out is laid out on its first report instead.
    """
    started = time.monotonic()
    warmed = 0
    for sheet in FactSheet.objects.published().with_content():
        if time.monotonic() - started > budget_seconds:
            break
        with _render_lock:
            _renderer.warm(sheet)
        warmed += 1
    return warmed


def deliver_report(*, request_id: int) -> bool:
    """Render and email one report; False when it had been sent already.

    The row stays locked from the check to the final write, so a duplicate task for the same
    request waits here and then finds it sent. If anything fails, the transaction rolls back
    and the row is still ``queued`` for a retry.
    """
    with transaction.atomic():
        report = (
            ReportRequest.objects.select_related("sheet")
            .select_for_update(of=("self",))  # the request's row; the sheet stays editable
            .get(pk=request_id)
        )
        if report.status == ReportStatus.SENT or report.erased_at:
            return False  # sent already, or erased while its task waited: no one to send to
        if not report.sheet.published:  # withdrawn (perhaps because it was wrong)
            raise SheetWithdrawn(f"Fact sheet {report.sheet_id} is not published; not sent")
        pdf = render_report_pdf(report)
        message = build_templated_email(
            "report",
            {"report": report, "sheet": report.sheet},
            to=[report.email],
            message_id_key=f"report-{report.pk}",
            attachments=[(f"fact-sheet-{report.pk}.pdf", pdf, "application/pdf")],
        )
        message.send()
        report.status = ReportStatus.SENT
        report.sent_at = timezone.now()
        report.attempts = F("attempts") + 1
        report.last_error = ""
        report.save(update_fields=["status", "sent_at", "attempts", "last_error", "updated_at"])
    return True


def record_delivery_failure(*, request_id: int, error: str, final: bool) -> bool:
    """Count a failed attempt; a ``final`` one, or the REPORT_MAX_ATTEMPTS-th counted on the
    row, marks it failed so staff see it and can resend. Returns True when no further attempt
    should be made: failed now, or nothing left to send.

    The count is the row's, not the task's: a task chain started again by the requeue sweep
    (after a worker was lost, say) starts its own retry count at 0, and would otherwise retry
    a row that has already had all its attempts.

    Not on a row erased meanwhile (the erasure waited for the failed send to let go of the
    row): the error can quote the address that was just erased."""
    with transaction.atomic():
        unsent = ReportRequest.objects.filter(pk=request_id, erased_at__isnull=True).exclude(
            status=ReportStatus.SENT
        )
        attempts = unsent.select_for_update().values_list("attempts", flat=True).first()
        if attempts is None:
            return True  # sent, erased or deleted meanwhile: nothing to try again
        final = final or attempts + 1 >= settings.REPORT_MAX_ATTEMPTS
        unsent.update(
            attempts=attempts + 1,
            last_error=error[:2000],
            status=ReportStatus.FAILED if final else ReportStatus.QUEUED,
            updated_at=timezone.now(),
        )
    return final


def claim_stale_queued(*, limit: int = 500) -> list[int]:
    """Queued rows left alone too long (their task was likely never enqueued), touched so the
    next sweep leaves them for a while."""
    older_than = timedelta(seconds=settings.REPORT_REQUEUE_AFTER_SECONDS)
    with transaction.atomic():
        ids = list(
            ReportRequest.objects.stale_queued(older_than=older_than)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        ReportRequest.objects.filter(pk__in=ids).update(updated_at=timezone.now())
    return ids
