"""Reads that assemble a whole sheet page: the sheet view, the lead views and the PDF share them."""

from django.shortcuts import get_object_or_404
from django.urls import reverse

from .models import FactSheet, RelatedSheet, Section, SheetTable


def build_blocks(sheet: FactSheet) -> list[Section | SheetTable]:
    """Sections and tables of a sheet in page order (they share one ``position`` sequence)."""
    return sorted(
        [*sheet.sections.all(), *sheet.tables.all()], key=lambda block: (block.position, block.pk)
    )


def resolve_related(sheet: FactSheet) -> list[tuple[RelatedSheet, str | None]]:
    """Each related entry with the URL of its sheet, or None where that sheet is not published."""
    entries = list(sheet.related.all())
    live = set(
        FactSheet.objects.published()
        .filter(slug__in=[entry.target_slug for entry in entries])
        .values_list("slug", flat=True)
    )
    return [
        (
            entry,
            reverse("factsheets:detail", kwargs={"slug": entry.target_slug})
            if entry.target_slug in live
            else None,
        )
        for entry in entries
    ]


def get_published_sheet(slug: str) -> FactSheet:
    return get_object_or_404(FactSheet.objects.published().with_content(), slug=slug)


def sheet_context(sheet: FactSheet) -> dict:
    """Everything a sheet page (or its PDF) shows, red flags grouped by the action they call for."""
    flags = list(sheet.red_flags.all())
    return {
        "sheet": sheet,
        "emergency_flags": [f for f in flags if f.level == "emergency"],
        "urgent_flags": [f for f in flags if f.level == "urgent"],
        "soon_flags": [f for f in flags if f.level == "soon"],
        "blocks": build_blocks(sheet),
        "related": resolve_related(sheet),
        "sources": list(sheet.sources.all()),
    }
