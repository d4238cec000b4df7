"""Target 5: the personalised PDF in a warm process, step by step against a naive render.

Every step renders the same reports, in turns (one of each step, then the next report), so a
slow spell on the shared machine falls on every step alike. The naive references time one
``HTML(string=...).write_pdf()`` call on HTML rendered beforehand; every other step is timed
whole, from the report's row to the PDF's bytes (queries and template included).
"""

import io
import statistics
import time
from collections.abc import Callable

from pypdf import PdfReader
from weasyprint import HTML

from leads.models import ReportRequest
from reports import services
from reports.fetcher import StaticOnlyURLFetcher

# (name, what it adds): each step keeps everything the one before it had.
STEPS = [
    ("naive, untagged", "one HTML(string=...).write_pdf(), nothing reused (the reference)"),
    ("naive, tagged", "the same call with pdf_variant='pdf/ua-1' (the code before this work)"),
    ("+ one FontConfiguration", "Fontconfig/Pango set-up and their caches kept"),
    ("+ parsed stylesheet", "report.css parsed once into a CSS object"),
    (
        "+ sheet pages kept",
        "each sheet laid out once; a report lays out only the patient's page, with the page "
        "total as text (render_report_pdf as shipped)",
    ),
]


def _naive(html: str, **options) -> bytes:
    return HTML(string=html, url_fetcher=StaticOnlyURLFetcher()).write_pdf(**options)


def _steps() -> dict[str, Callable[[ReportRequest, str], bytes]]:
    fonts = services.ReportRenderer(
        reuse_fonts=True, reuse_stylesheet=False, reuse_sheet_pages=False
    )
    stylesheet = services.ReportRenderer(
        reuse_fonts=True, reuse_stylesheet=True, reuse_sheet_pages=False
    )
    return {
        "naive, untagged": lambda report, html: _naive(html),
        "naive, tagged": lambda report, html: _naive(html, pdf_variant=services.PDF_VARIANT),
        "+ one FontConfiguration": lambda report, html: fonts.render(report),
        "+ parsed stylesheet": lambda report, html: stylesheet.render(report),
        # The very function the worker calls, with its own module-level renderer.
        "+ sheet pages kept": lambda report, html: services.render_report_pdf(report),
    }


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _is_tagged(pdf: bytes) -> bool:
    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    return "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])


def benchmark(reports: list[ReportRequest], *, rounds: int) -> dict:
    steps = _steps()
    html = {report.pk: services.render_report_html(report) for report in reports}
    # Warm every step once per report (imports, fonts, the kept pages), and check what the
    # shipped path makes against the naive tagged render: same text on every page, tagged.
    same_content, same_bytes, tagged = True, True, True
    for report in reports:
        outputs = {name: step(report, html[report.pk]) for name, step in steps.items()}
        shipped, naive = outputs["+ sheet pages kept"], outputs["naive, tagged"]
        same_content &= _text(shipped) == _text(naive)
        same_bytes &= shipped == naive
        tagged &= _is_tagged(shipped)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for report in reports:
            for name, step in steps.items():
                started = time.perf_counter()
                step(report, html[report.pk])
                times[name].append((time.perf_counter() - started) * 1000)
    medians = {name: statistics.median(values) for name, values in times.items()}
    reference = medians["naive, untagged"]
    rows = []
    previous = None
    for name, adds in STEPS:
        values = sorted(times[name])
        rows.append(
            {
                "step": name,
                "adds": adds,
                "median_ms": round(medians[name], 1),
                "p90_ms": round(values[int(0.9 * (len(values) - 1))], 1),
                "min_ms": round(values[0], 1),
                "max_ms": round(values[-1], 1),
                "n": len(values),
                "vs_naive_untagged": round(medians[name] / reference, 3),
                "vs_previous_step": round(medians[name] / medians[previous], 3)
                if previous
                else None,
            }
        )
        previous = name
    return {
        "steps": rows,
        "warm_median_ms": medians["+ sheet pages kept"],
        "ratio": medians["+ sheet pages kept"] / reference,
        "ratio_vs_naive_tagged": medians["+ sheet pages kept"] / medians["naive, tagged"],
        "same_text_as_naive_tagged": same_content,
        "same_bytes_as_naive_tagged": same_bytes,
        "tagged_pdf_ua": tagged,
        "reports": len(reports),
        "rounds": rounds,
    }
