"""Loading the shipped fact sheets (factsheets/content/*.json) and keeping a site up to date.

Each sheet records two fingerprints when it is loaded: the SHA-256 of the shipped file it came
from (``shipped_sha256``: the same as ``sha256sum`` prints) and of its content as loaded
(``loaded_content_sha256``). On the next release, a shipped file whose SHA-256 differs from the
recorded one has changed since the sheet was loaded; a sheet whose content no longer has the
loaded fingerprint has been edited since (in admin, or anywhere else). Nothing here overwrites
a sheet unless asked to by name, or by a plain ``--replace``: a clinically reviewed correction
reaches a site only through someone deciding what happens to that site's own edits.
"""

import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import FactSheet, RedFlag, RelatedSheet, Section, SheetTable, Source

CONTENT_DIR = Path(__file__).resolve().parent / "content"

SHEET_FIELDS = (
    "title",
    "subtitle",
    "summary",
    "banner_level",
    "banner_text",
    "last_reviewed",
    "next_review_due",
    "published",
    "asks_cancer_history",
    "questions",
)
# The rows under a sheet, with the fields a load writes (and a fingerprint covers).
CHILD_FIELDS = {
    "red_flags": ("position", "level", "text", "symptom"),
    "sections": ("position", "heading", "body", "bullets"),
    "tables": ("position", "caption", "header", "rows"),
    "related": ("position", "target_slug", "title", "blurb"),
    "sources": ("position", "title", "publisher", "url"),
}

# The content fingerprints of every version of each sheet shipped before sheets recorded what
# they were loaded from (from the git history of factsheets/content/ up to the release that
# added the fingerprints). A sheet loaded before then, whose content is exactly one of these,
# holds an earlier shipped version without staff edits. Only for that one upgrade: sheets loaded
# since record their own fingerprints. If ``content_fingerprint`` ever changes what it covers,
# these stop matching, and such sheets are reported as "cannot tell" (never as unedited).
EARLIER_SHIPPED_CONTENT: dict[str, frozenset[str]] = {
    "cauda-equina-syndrome": frozenset(
        {
            "2cc914b27820ce686f8ffb3f6568da9bf5fc3cdd4cc7b820fe2023b28ec6d09d",
        }
    ),
    "metastatic-spinal-cord-compression": frozenset(
        {
            "4fb6dd2504ff4a05736e0781dcd7ea46731542dd0304db7967ce94210f0e8ef1",
            "682b4175380614e97541b83b8dd6037ea1557f6c1d1c2a22c6a1bd1d4b28b491",
            "abe2249b11287351910fa887116c36e5b0b96212866621e0bb8e43608f8b6696",
            "ac516a8c1c0892803b6d41ad55d2ec82ba3abb4c8792a12c27e9d748f71092b3",
        }
    ),
    "multiple-myeloma": frozenset(
        {
            "328286d0419a7ca1f389e749ca909c56596970ad44f25e4931f0e1a34126ec31",
            "a5483b25b4a8ef2f7baec11474bb0d1cfb2304b2d9a57fc95e9facae3e9e8798",
        }
    ),
    "osteoporosis": frozenset(
        {
            "29f9a2894e039a7a2f87ed67d1205a9b527ebb5b80d94e467a2b8cfa79a79353",
            "a62b02056c0ef603f0503f5554e18de899f13f553392734f9afa3d1adc0afdc0",
        }
    ),
    "prostate-cancer-and-back-pain": frozenset(
        {
            "39b08b13d823294ce6ed7846acdc966134b2b6f02a9ca61c22158805434bc79c",
            "c8245d1cfbe2b3de3e70d3cf2e9fa01b8982959eab7cd0093519dc16812d9cec",
            "de7ac916f7a62ca5cad91031382b0784fe59f0a9d26bf9183fe7649d83120996",
        }
    ),
    "spinal-infection": frozenset(
        {
            "123924cfbc492c5b5bc0520bd6d622fb498fa44b76d83dca13470f7f59c10e1b",
        }
    ),
    "spinal-metastases": frozenset(
        {
            "107993a06492af55980a58f5f33ec13fbe57e400c9674a925ab3a69bd0160721",
            "793e8e56383d35b4bcc8fd5329c6267ca55ee86db99103cfb9e0fb875675a4b8",
            "8f70e32f549258e6261f5eb8fba3dc2c3ae4d441e0e227ec8aaf42b6612c1697",
            "e90e2ca2cf83d5f035dc9574209cb0e5616bdbd3ae1a7e39dd00cbc194e15815",
        }
    ),
}


@dataclass(frozen=True)
class ShippedSheet:
    """One file in factsheets/content/."""

    path: Path
    data: dict
    sha256: str

    @property
    def slug(self) -> str:
        return self.data["slug"]

    @classmethod
    def read(cls, path: Path) -> "ShippedSheet":
        raw = path.read_bytes()
        return cls(path=path, data=json.loads(raw), sha256=hashlib.sha256(raw).hexdigest())


def shipped_sheets() -> list[ShippedSheet]:
    return [ShippedSheet.read(path) for path in sorted(CONTENT_DIR.glob("*.json"))]


def _rows_from_data(data: dict) -> dict[str, Any]:
    """The sheet's fields and child rows exactly as a load writes them from ``data``."""
    blocks = list(enumerate(data["blocks"]))
    return {
        "sheet": {
            "title": data["title"],
            "subtitle": data.get("subtitle", ""),
            "summary": data["summary"],
            "banner_level": data["banner_level"],
            "banner_text": data.get("banner_text", ""),
            "last_reviewed": date.fromisoformat(data["last_reviewed"]),
            "next_review_due": date.fromisoformat(data["next_review_due"]),
            "published": data.get("published", True),
            "asks_cancer_history": any(
                q["key"] == "cancer_history" for q in data.get("context_questions", [])
            ),
            "questions": data.get("questions", []),
        },
        "red_flags": [
            {
                "position": i,
                "level": flag["level"],
                "text": flag["text"],
                "symptom": flag.get("symptom", ""),
            }
            for i, flag in enumerate(data["red_flags"])
        ],
        "sections": [
            {
                "position": i,
                "heading": block["heading"],
                "body": "\n\n".join(block.get("paragraphs", [])),
                "bullets": block.get("bullets", []),
            }
            for i, block in blocks
            if block["type"] == "section"
        ],
        "tables": [
            {
                "position": i,
                "caption": block["caption"],
                "header": block["header"],
                "rows": block["rows"],
            }
            for i, block in blocks
            if block["type"] != "section"
        ],
        "related": [
            {
                "position": i,
                "target_slug": r["slug"],
                "title": r["title"],
                "blurb": r.get("blurb", ""),
            }
            for i, r in enumerate(data.get("related", []))
        ],
        "sources": [
            {
                "position": i,
                "title": s["title"],
                "publisher": s["publisher"],
                "url": s.get("url", ""),
            }
            for i, s in enumerate(data["sources"])
        ],
    }


def _rows_from_sheet(sheet: FactSheet) -> dict[str, Any]:
    """The same shape as ``_rows_from_data``, read from the database as the sheet is now."""
    rows: dict[str, Any] = {"sheet": {field: getattr(sheet, field) for field in SHEET_FIELDS}}
    for name, fields in CHILD_FIELDS.items():
        rows[name] = list(getattr(sheet, name).order_by("position", "id").values(*fields))
    return rows


def _fingerprint(rows: dict[str, Any]) -> str:
    # Whether a sheet is on the site is the clinic's decision (Published, in admin), not its
    # content: a withdrawn sheet is not "edited". Counted as published, as every sheet was when
    # fingerprints began, so the fingerprints recorded since then still compare.
    rows = {**rows, "sheet": {**rows["sheet"], "published": True}}

    def same_lines(value: Any) -> Any:
        # A browser sends a textarea's lines ending in CRLF: an admin save that changed no word
        # is not a staff edit.
        if isinstance(value, str):
            return value.replace("\r\n", "\n")
        if isinstance(value, list | tuple):
            return [same_lines(item) for item in value]
        if isinstance(value, dict):
            return {key: same_lines(item) for key, item in value.items()}
        if isinstance(value, date):
            return value.isoformat()
        return value

    text = json.dumps(same_lines(rows), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def shipped_content_fingerprint(data: dict) -> str:
    """The content fingerprint a sheet has right after it is loaded from ``data``."""
    return _fingerprint(_rows_from_data(data))


def content_fingerprint(sheet: FactSheet) -> str:
    """The fingerprint of the sheet's content as it is in the database now."""
    return _fingerprint(_rows_from_sheet(sheet))


def _write(shipped: ShippedSheet, existing: FactSheet | None) -> FactSheet:
    """Write the shipped content over ``existing`` (or as a new sheet), with its fingerprints.

    Through ``save()`` and the child rows' deletes, so the signals start a new generation of
    the page cache (factsheets/cache.py); ``content_version`` rises as for an edit in admin.
    """
    rows = _rows_from_data(shipped.data)
    sheet = existing or FactSheet(slug=shipped.slug)
    for field, value in rows["sheet"].items():
        if existing and field == "published":
            continue  # a withdrawn sheet (or a draft) stays off the site when replaced
        setattr(sheet, field, value)
    sheet.shipped_slug = shipped.slug
    sheet.shipped_sha256 = shipped.sha256
    sheet.loaded_content_sha256 = _fingerprint(rows)
    if existing:
        sheet.content_version += 1
    sheet.updated_at = timezone.now()
    sheet.save()
    for child in (sheet.red_flags, sheet.sections, sheet.tables, sheet.related, sheet.sources):
        child.all().delete()
    RedFlag.objects.bulk_create(RedFlag(sheet=sheet, **row) for row in rows["red_flags"])
    for row in rows["sections"]:
        Section.objects.create(sheet=sheet, **row)
    for row in rows["tables"]:
        SheetTable.objects.create(sheet=sheet, **row)
    RelatedSheet.objects.bulk_create(RelatedSheet(sheet=sheet, **row) for row in rows["related"])
    Source.objects.bulk_create(Source(sheet=sheet, **row) for row in rows["sources"])
    sheet.refresh_search_document()
    sheet.save(update_fields=["search_document"])
    return sheet


@dataclass(frozen=True)
class SheetReport:
    """What ``update_shipped_content`` did with one shipped sheet, and what it found."""

    sheet: FactSheet
    shipped: ShippedSheet
    # "loaded" (it was missing), "replaced", "kept" (marked as reviewed, left as it is) or
    # "unchanged".
    action: str
    # The shipped file has changed since the sheet was loaded (or, when that is not known,
    # differs from it) and the sheet does not already hold what it ships.
    out_of_date: bool = False
    # Edited since it was loaded: True, False, or None when that cannot be known (loaded
    # before sheets recorded their fingerprints). For a replaced sheet: the edits overwritten.
    staff_edits: bool | None = None
    # Loaded before fingerprints were recorded, and holds exactly an earlier shipped version.
    earlier_version: bool = False
    # Holds exactly what its shipped file loads (after the load or replace, for those).
    same_as_shipped: bool = False

    @property
    def written(self) -> bool:
        return self.action in ("loaded", "replaced")


class UnknownSheets(ValueError):
    def __init__(self, slugs: Iterable[str], shipped: Iterable[str]) -> None:
        self.slugs = sorted(slugs)
        super().__init__(
            f"No shipped fact sheet is called {', '.join(self.slugs)}; "
            f"the shipped sheets are: {', '.join(sorted(shipped))}."
        )


def _staff_edits(sheet: FactSheet, now: str) -> bool | None:
    if sheet.loaded_content_sha256:
        return now != sheet.loaded_content_sha256
    return None


@transaction.atomic
def _update_one(shipped: ShippedSheet, *, replace: bool, keep: bool) -> SheetReport:
    sheets = FactSheet.objects.select_for_update()
    # Loaded from this file, whatever staff have renamed it since; else a sheet written at its
    # address before sheets recorded their file.
    existing = (
        sheets.filter(shipped_slug=shipped.slug).first()
        or sheets.filter(slug=shipped.slug, shipped_slug="").first()
    )
    if existing is None:
        return SheetReport(_write(shipped, None), shipped, "loaded", same_as_shipped=True)
    now = content_fingerprint(existing)
    staff_edits = _staff_edits(existing, now)
    earlier = staff_edits is None and now in EARLIER_SHIPPED_CONTENT.get(shipped.slug, ())
    if earlier:
        staff_edits = False
    same = now == shipped_content_fingerprint(shipped.data)
    if replace:
        return SheetReport(
            _write(shipped, existing),
            shipped,
            "replaced",
            staff_edits=False if same else staff_edits,  # the edits the replace overwrote
            earlier_version=earlier,
            same_as_shipped=True,
        )
    records = FactSheet.objects.filter(pk=existing.pk)  # bookkeeping only: no signals, no version
    if same:
        # It already holds exactly what the file ships (loaded from it, an unchanged file
        # reformatted, or the change made by hand): up to date, whatever was recorded.
        recorded = (existing.shipped_slug, existing.shipped_sha256, existing.loaded_content_sha256)
        if recorded != (shipped.slug, shipped.sha256, now):
            records.update(
                shipped_slug=shipped.slug, shipped_sha256=shipped.sha256, loaded_content_sha256=now
            )
        return SheetReport(existing, shipped, "unchanged", staff_edits=False, same_as_shipped=True)
    if keep:
        fields = {"shipped_slug": shipped.slug, "shipped_sha256": shipped.sha256}
        if earlier:
            fields["loaded_content_sha256"] = now
        records.update(**fields)
        return SheetReport(
            existing, shipped, "kept", staff_edits=staff_edits, earlier_version=earlier
        )
    out_of_date = existing.shipped_sha256 != shipped.sha256
    return SheetReport(
        existing,
        shipped,
        "unchanged",
        out_of_date=out_of_date,
        staff_edits=staff_edits,
        earlier_version=earlier,
    )


def update_shipped_content(
    *, replace: bool | Collection[str] = False, keep: Collection[str] = ()
) -> list[SheetReport]:
    """Load every shipped sheet the site lacks, and report on the ones it has.

    ``replace``: True overwrites every existing sheet with its shipped version; a collection of
    slugs overwrites those only. ``keep``: slugs of sheets to leave as they are and mark as
    reviewed against their shipped file, so they are not reported again until it changes; or,
    for a sheet whose file is no longer shipped, to keep as the site's own sheet. Slugs that
    name no shipped sheet (nor one no longer shipped) raise ``UnknownSheets`` before anything
    is written.
    """
    sheets = shipped_sheets()
    slugs = {shipped.slug for shipped in sheets}
    to_replace = slugs if replace is True else set(replace or ())
    to_keep = set(keep)
    dropped = set(
        FactSheet.objects.exclude(shipped_slug="")
        .exclude(shipped_slug__in=slugs)
        .values_list("shipped_slug", flat=True)
    )
    if unknown := (to_replace | (to_keep - dropped)) - slugs:
        raise UnknownSheets(unknown, slugs)
    if both := to_replace & to_keep:
        raise ValueError(f"Asked both to replace and to keep: {', '.join(sorted(both))}.")
    if taken := _addresses_taken(sheets):
        raise ValueError(
            "Nothing was changed: "
            + " ".join(
                f"the shipped sheet {shipped.slug} cannot be loaded, because the sheet at its "
                f"address is the shipped sheet {holder.shipped_slug}, renamed since."
                for shipped, holder in taken
            )
            + " Rename that sheet in admin, then run this again."
        )
    if adopted := to_keep & dropped:
        # No longer shipped, and kept: the site's own sheet from now on (bookkeeping only).
        FactSheet.objects.filter(shipped_slug__in=adopted).update(shipped_slug="")
    return [
        _update_one(shipped, replace=shipped.slug in to_replace, keep=shipped.slug in to_keep)
        for shipped in sheets
    ]


def _addresses_taken(sheets: list[ShippedSheet]) -> list[tuple[ShippedSheet, FactSheet]]:
    """Shipped sheets not yet loaded whose address another shipped sheet, renamed, now holds:
    found before anything is written, so a load never stops half done."""
    loaded = set(FactSheet.objects.exclude(shipped_slug="").values_list("shipped_slug", flat=True))
    holders = {
        sheet.slug: sheet
        for sheet in FactSheet.objects.filter(slug__in=[s.slug for s in sheets]).exclude(
            shipped_slug=""
        )
    }
    return [
        (shipped, holders[shipped.slug])
        for shipped in sheets
        if shipped.slug not in loaded
        and shipped.slug in holders
        and holders[shipped.slug].shipped_slug != shipped.slug
    ]


def no_longer_shipped(slugs: Collection[str]) -> list[FactSheet]:
    """Published sheets loaded from a file this release, which ships ``slugs``, no longer
    ships. It may have been dropped because it is wrong or out of date, so the site should not
    go on showing it without someone deciding to: withdraw it in admin, or keep it (``keep``)
    as the site's own.
    """
    return list(
        FactSheet.objects.published()
        .exclude(shipped_slug="")
        .exclude(shipped_slug__in=slugs)
        .order_by("shipped_slug")
    )


def load_shipped_content(*, replace: bool = False) -> list[tuple[FactSheet, bool]]:
    """Load the shipped sheets: (sheet, written) for each; existing ones only with ``replace``."""
    return [(report.sheet, report.written) for report in update_shipped_content(replace=replace)]
