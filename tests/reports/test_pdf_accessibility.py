"""The emailed PDF is as readable by assistive technology as the page: tagged (PDF/UA-1),
titled, in en-GB, headings in order, table headers marked, ticked signs as real lists."""

import io

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from leads.services import self_check_fields
from reports.services import render_report_pdf
from tests.factories import ReportRequestFactory


def structure_types(reader: PdfReader) -> list[str]:
    """The structure element types (/S) in document order, walking the StructTreeRoot."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, IndirectObject):
            node = node.get_object()
        if isinstance(node, ArrayObject):
            for child in node:
                walk(child)
        elif isinstance(node, DictionaryObject):
            if "/S" in node:
                found.append(str(node["/S"]))
            if "/K" in node:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


@pytest.fixture
def tagged_report(spinal_metastases) -> PdfReader:
    ticked = [f.pk for f in spinal_metastases.red_flags.filter(level="urgent")[:2]]
    report = ReportRequestFactory(
        sheet=spinal_metastases,
        name="Nguyễn Văn An",
        **self_check_fields(spinal_metastases, ticked, True),
    )
    return PdfReader(io.BytesIO(render_report_pdf(report)))


def test_pdf_is_tagged_with_title_and_language(tagged_report):
    root = tagged_report.trailer["/Root"]

    assert bool(root["/MarkInfo"]["/Marked"])
    assert str(root["/Lang"]).lower() == "en-gb"
    assert tagged_report.metadata.title.startswith("Spinal metastases")
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]


def test_pdf_headings_are_in_order_without_skipping_levels(tagged_report):
    headings = [
        int(s[2:]) for s in structure_types(tagged_report) if s[:2] == "/H" and s[2:].isdigit()
    ]

    assert headings[0] == 1
    assert headings.count(1) >= 2  # the summary page and the sheet itself
    for previous, current in zip(headings, headings[1:], strict=False):
        assert current <= previous + 1, headings


def test_pdf_tables_have_header_cells(tagged_report):
    types = structure_types(tagged_report)

    # Two tables on the sheet; a table that runs over a page break may be tagged in parts.
    assert types.count("/Table") >= 2
    assert types.count("/TH") >= 2 * 2 + 7 * 2  # header rows, and each row's first cell


def test_pdf_ticked_signs_are_real_lists(tagged_report):
    types = structure_types(tagged_report)

    assert "/L" in types
    assert types.count("/LI") >= 3  # two ticked signs and "cancer now or in the past"
    assert types.count("/LBody") == types.count("/LI")


def test_pdf_links_to_other_sheets_are_web_addresses_not_files(tagged_report, settings):
    """A site-relative link in a PDF is taken for a file on the reader's computer."""
    targets = []
    for page in tagged_report.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            targets.append((action.get("/S"), action.get("/URI") or action.get("/F")))

    related = [uri for kind, uri in targets if "/factsheets/" in str(uri)]
    assert related, targets
    assert all(str(uri).startswith(f"{settings.SITE_URL}/factsheets/") for uri in related)
    assert {kind for kind, _ in targets} == {"/URI"}, targets
