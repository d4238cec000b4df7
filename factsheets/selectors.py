"""Reads that assemble a whole sheet page: the sheet view, the lead views and the PDF share them."""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse

from .models import FactSheet, FormerSlug, RelatedSheet, Section, SheetTable


def build_blocks(sheet: FactSheet) -> list[Section | SheetTable]:
    """Sections and tables of a sheet in page order (they share one ``position`` sequence)."""
    return sorted(
        [*sheet.sections.all(), *sheet.tables.all()], key=lambda block: (block.position, block.pk)
    )


def resolve_related(sheet: FactSheet) -> list[tuple[RelatedSheet, str | None]]:
    """Each related entry with the URL of its sheet, or None where that sheet is not published.

    An entry naming a sheet by an address it has since left links to where it is now.
    """
    entries = list(sheet.related.all())
    wanted = {entry.target_slug for entry in entries}
    published = FactSheet.objects.published().filter(slug__in=wanted)
    live = {slug: slug for slug in published.values_list("slug", flat=True)}  # old: current
    if moved := wanted - live.keys():
        live |= dict(
            FormerSlug.objects.filter(slug__in=moved, sheet__published=True).values_list(
                "slug", "sheet__slug"
            )
        )
    return [
        (
            entry,
            reverse("factsheets:detail", kwargs={"slug": live[entry.target_slug]})
            if entry.target_slug in live
            else None,
        )
        for entry in entries
    ]


def get_published_sheet(slug: str) -> FactSheet:
    return get_object_or_404(FactSheet.objects.published().with_content(), slug=slug)


def _public(sheets) -> FactSheet | None:
    """The first of ``sheets`` that is or was on the site (published or withdrawn)."""
    return sheets.filter(Q(published=True) | Q(withdrawn_at__isnull=False)).first()


def moved_or_withdrawn(slug: str) -> FactSheet:
    """The sheet behind an address that shows no live page: the sheet now at another address
    (it was renamed), or one taken off the site. Http404 for anything else: drafts stay unseen,
    and a draft given a former address does not hide where that address leads.

    Its pages live on in open browser tabs and shared caches (for up to a minute or so), and
    their forms post to the address they came from.
    """
    here = _public(FactSheet.objects.filter(slug=slug))
    moved = _public(FactSheet.objects.filter(former_slugs__slug=slug))
    # A sheet still on the site wins: one that left this address over one withdrawn here since.
    sheet = next((s for s in (here, moved) if s and s.published), here or moved)
    if sheet is None:
        raise Http404("No fact sheet has this address.")
    return sheet


def public_sheet(pk: int) -> FactSheet:
    """The sheet with this id if it is or was on the site (a form names the sheet it was
    shown with); Http404 for a draft or none."""
    sheet = _public(FactSheet.objects.filter(pk=pk))
    if sheet is None:
        raise Http404("No fact sheet has this id.")
    return sheet


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
