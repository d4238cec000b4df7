"""The report renderer that keeps each sheet's laid-out pages: its PDF must be the one a naive
render of the whole HTML makes (same pages, same text, same tags), and nothing about a
patient may be kept between reports."""

import io

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from factsheets.models import RedFlag
from leads.services import self_check_fields
from reports import services
from reports.fetcher import StaticOnlyURLFetcher
from tests.factories import ReportRequestFactory
from tests.reports.test_pdf_accessibility import structure_types


def naive_pdf(report) -> bytes:
    html = services.render_report_html(report)
    return HTML(string=html, url_fetcher=StaticOnlyURLFetcher()).write_pdf(
        pdf_variant=services.PDF_VARIANT
    )


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


@pytest.fixture
def renderer() -> services.ReportRenderer:
    return services.ReportRenderer()


@pytest.fixture
def ticked_report(spinal_metastases):
    ticked = [f.pk for f in spinal_metastases.red_flags.filter(level="urgent")[:2]]
    return ReportRequestFactory(
        sheet=spinal_metastases,
        name="Nguyễn Văn An",
        **self_check_fields(spinal_metastases, ticked, True),
    )


def test_kept_pages_make_the_same_pdf_as_a_naive_render(renderer, ticked_report):
    naive = naive_pdf(ticked_report)
    first = renderer.render(ticked_report)
    again = renderer.render(ticked_report)  # this one from the kept pages

    assert page_texts(first) == page_texts(naive)
    assert page_texts(again) == page_texts(naive)
    assert again == naive  # WeasyPrint writes the joined pages exactly as one render
    assert structure_types(reader(again)) == structure_types(reader(naive))
    assert reader(again).metadata.title == reader(naive).metadata.title
    assert str(reader(again).trailer["/Root"]["/Lang"]) == "en-GB"


def test_every_page_is_numbered_against_the_whole_report(renderer, ticked_report):
    texts = page_texts(renderer.render(ticked_report))

    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text


def test_each_switch_alone_makes_the_same_pdf(ticked_report):
    naive = page_texts(naive_pdf(ticked_report))
    for options in (
        {"reuse_fonts": False, "reuse_stylesheet": False, "reuse_sheet_pages": False},
        {"reuse_fonts": True, "reuse_stylesheet": False, "reuse_sheet_pages": False},
        {"reuse_fonts": True, "reuse_stylesheet": True, "reuse_sheet_pages": False},
        {"reuse_fonts": False, "reuse_stylesheet": True, "reuse_sheet_pages": True},
    ):
        assert page_texts(services.ReportRenderer(**options).render(ticked_report)) == naive


def test_one_set_of_pages_is_kept_per_sheet_whoever_the_patient(renderer, spinal_metastases):
    ada = ReportRequestFactory(sheet=spinal_metastases, name="Ada Firstpatient")
    ben = ReportRequestFactory(sheet=spinal_metastases, name="Ben Secondpatient")

    renderer.render(ada)
    ben_pdf = renderer.render(ben)

    assert len(renderer._sheet_pages) == 1
    [kept] = renderer._sheet_pages.values()
    kept_text = "\n".join(page_texts(kept_pages_pdf(kept)))
    assert "Firstpatient" not in kept_text and "Secondpatient" not in kept_text
    assert "Ben Secondpatient" in page_texts(ben_pdf)[0]
    assert "Ada Firstpatient" not in "\n".join(page_texts(ben_pdf))


def kept_pages_pdf(pages) -> bytes:
    """The kept pages alone, as a PDF, to read their text."""
    document = HTML(string="<p>x</p>").render()
    return document.copy(pages).write_pdf()


def test_an_edit_to_the_sheet_shows_in_the_next_report(renderer, spinal_metastases):
    report = ReportRequestFactory(sheet=spinal_metastases, name="Ada Patient")
    renderer.render(report)
    section = spinal_metastases.sections.first()
    section.heading = "A heading written after the pages were kept"
    section.save()

    text = "\n".join(page_texts(renderer.render(report)))

    assert "A heading written after the pages were kept" in text


def test_a_longer_patient_page_renumbers_the_kept_sheet(renderer, spinal_metastases):
    first = ReportRequestFactory(sheet=spinal_metastases, name="Ada Patient")
    renderer.render(first)
    total_before = renderer._page_totals[spinal_metastases.pk]
    for index in range(40):  # far more signs than fit on the patient's first page
        RedFlag.objects.create(
            sheet=spinal_metastases, level="soon", text=f"Extra sign {index}", symptom=f"s{index}"
        )
    spinal_metastases.refresh_from_db()
    every_sign = self_check_fields(spinal_metastases, [], None)
    longer = ReportRequestFactory(sheet=spinal_metastases, name="Ben Patient", **every_sign)

    texts = page_texts(renderer.render(longer))

    assert renderer._page_totals[spinal_metastases.pk] == len(texts) > total_before
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
    assert texts == page_texts(naive_pdf(longer))


def test_warm_up_lays_out_every_published_sheet(shipped_sheets, monkeypatch):
    fresh = services.ReportRenderer()
    monkeypatch.setattr(services, "_renderer", fresh)

    warmed = services.warm_report_renderer()

    assert warmed == len(shipped_sheets)
    assert len(fresh._sheet_pages) == len(shipped_sheets)
    assert set(fresh._page_totals) == {sheet.pk for sheet in shipped_sheets.values()}


def test_warm_up_stops_at_its_time_budget(shipped_sheets, monkeypatch):
    monkeypatch.setattr(services, "_renderer", services.ReportRenderer())

    assert services.warm_report_renderer(budget_seconds=0) <= 1


def test_kept_sheets_are_bounded(spinal_metastases, shipped_sheets):
    renderer = services.ReportRenderer(max_sheets=2)

    for sheet in list(shipped_sheets.values())[:4]:
        renderer.render(ReportRequestFactory(sheet=sheet, name="Ada Patient"))

    assert len(renderer._sheet_pages) == 2
