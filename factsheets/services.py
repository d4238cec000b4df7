import json
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from .models import FactSheet, RedFlag, RelatedSheet, Section, SheetTable, Source

CONTENT_DIR = Path(__file__).resolve().parent / "content"


@transaction.atomic
def load_sheet(data: dict, *, replace: bool = False) -> tuple[FactSheet, bool]:
    """Create a sheet from its shipped JSON; returns (sheet, written).

    An existing sheet is left as staff edited it unless ``replace`` is given, so the run
    command can load content every time without undoing anyone's work.
    """
    existing = FactSheet.objects.filter(slug=data["slug"]).first()
    if existing and not replace:
        return existing, False
    sheet = existing or FactSheet(slug=data["slug"])
    sheet.title = data["title"]
    sheet.subtitle = data.get("subtitle", "")
    sheet.summary = data["summary"]
    sheet.banner_level = data["banner_level"]
    sheet.banner_text = data.get("banner_text", "")
    sheet.last_reviewed = date.fromisoformat(data["last_reviewed"])
    sheet.next_review_due = date.fromisoformat(data["next_review_due"])
    sheet.published = data.get("published", True)
    sheet.asks_cancer_history = any(
        q["key"] == "cancer_history" for q in data.get("context_questions", [])
    )
    sheet.questions = data.get("questions", [])
    if existing:
        sheet.content_version += 1
    sheet.updated_at = timezone.now()
    sheet.save()
    for child in (sheet.red_flags, sheet.sections, sheet.tables, sheet.related, sheet.sources):
        child.all().delete()
    RedFlag.objects.bulk_create(
        RedFlag(
            sheet=sheet,
            position=i,
            level=flag["level"],
            text=flag["text"],
            symptom=flag.get("symptom", ""),
        )
        for i, flag in enumerate(data["red_flags"])
    )
    for i, block in enumerate(data["blocks"]):
        if block["type"] == "section":
            Section.objects.create(
                sheet=sheet,
                position=i,
                heading=block["heading"],
                body="\n\n".join(block.get("paragraphs", [])),
                bullets=block.get("bullets", []),
            )
        else:
            SheetTable.objects.create(
                sheet=sheet,
                position=i,
                caption=block["caption"],
                header=block["header"],
                rows=block["rows"],
            )
    RelatedSheet.objects.bulk_create(
        RelatedSheet(
            sheet=sheet,
            position=i,
            target_slug=r["slug"],
            title=r["title"],
            blurb=r.get("blurb", ""),
        )
        for i, r in enumerate(data.get("related", []))
    )
    Source.objects.bulk_create(
        Source(
            sheet=sheet,
            position=i,
            title=s["title"],
            publisher=s["publisher"],
            url=s.get("url", ""),
        )
        for i, s in enumerate(data["sources"])
    )
    sheet.refresh_search_document()
    sheet.save(update_fields=["search_document"])
    return sheet, True


def load_shipped_content(*, replace: bool = False) -> list[tuple[FactSheet, bool]]:
    return [
        load_sheet(json.loads(path.read_text(encoding="utf-8")), replace=replace)
        for path in sorted(CONTENT_DIR.glob("*.json"))
    ]
