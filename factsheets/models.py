import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class ActionLevel(models.TextChoices):
    """What a red flag asks the reader to do, most pressing first."""

    EMERGENCY = "emergency", "Emergency: call 999 or go to A&E now"
    URGENT = "urgent", "Urgent: get medical advice today (GP or NHS 111)"
    SOON = "soon", "Soon: see a GP within days"


class BannerLevel(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    INFORMATION = "information", "Information"


# Everyday words a worried reader may search with, and the words the sheets use for them. The
# sheets speak plainly ("leaking pee", "your bottom"), but a search for "incontinence" or "wee"
# found nothing, and a reader with cauda equina signs was told no sheet matched.
EVERYDAY_WORDS = {
    "incontinence": "leaking bladder bowels",
    "incontinent": "leaking bladder bowels",
    "wee": "pee",
    "weeing": "peeing",
    "bum": "bottom",
    "backside": "bottom",
}


def sheets_words_for(word: str) -> list[str]:
    """The sheets' own words for an everyday word ("wee?" too), or none."""
    return " ".join(EVERYDAY_WORDS.get(w, "") for w in re.findall(r"[a-z]+", word.lower())).split()


def with_everyday_words(query: str) -> str:
    """The query with the sheets' own words added for any everyday ones in it."""
    return " ".join([query, *sheets_words_for(query)])


class FactSheetQuerySet(models.QuerySet):
    def published(self) -> "FactSheetQuerySet":
        return self.filter(published=True)

    def search(self, query: str) -> "FactSheetQuerySet":
        """Sheets matching the words in ``query``: ranked full-text search on PostgreSQL,
        every-word substring matching elsewhere (SQLite in the embedded mode)."""
        query = query.strip()
        if not query:
            return self.none()
        if connections[self.db].vendor == "postgresql":
            vector = (
                SearchVector("title", weight="A", config="english")
                + SearchVector("summary", weight="B", config="english")
                + SearchVector("search_document", weight="C", config="english")
            )
            # Ranked, not matched: a sheet with any of the words is found (an "or" search).
            terms = SearchQuery(
                with_everyday_words(query), search_type="websearch", config="english"
            )
            return (
                self.annotate(rank=SearchRank(vector, terms))
                .filter(rank__gt=0)
                .order_by("-rank", "title")
            )
        condition = Q()
        for word in query.split():
            either = Q()
            for alternative in [word, *sheets_words_for(word)]:
                either |= (
                    Q(title__icontains=alternative)
                    | Q(summary__icontains=alternative)
                    | Q(search_document__icontains=alternative)
                )
            condition &= either
        return self.filter(condition)

    def with_content(self) -> "FactSheetQuerySet":
        return self.prefetch_related("red_flags", "sections", "tables", "related", "sources")


class FactSheet(models.Model):
    title = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    subtitle = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=240, help_text="One line shown in the list of sheets.")
    banner_level = models.CharField(
        max_length=12, choices=BannerLevel.choices, default=BannerLevel.INFORMATION
    )
    banner_text = models.CharField(max_length=80, blank=True)
    last_reviewed = models.DateField()
    next_review_due = models.DateField()
    published = models.BooleanField(
        default=False,
        help_text="Shown on the site. Untick to withdraw the sheet: its page then says it has "
        "been withdrawn, and consultation requests from copies of it still open are kept.",
    )
    withdrawn_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the sheet was last taken off the site; empty while it is published, "
        "and for a draft that never was.",
    )
    asks_cancer_history = models.BooleanField(
        default=False,
        help_text='Add "I have or have had cancer" to the sheet\'s self-check list.',
    )
    questions = models.JSONField(
        default=list, blank=True, help_text="Questions a patient could ask; printed in the PDF."
    )
    search_document = models.TextField(
        blank=True, editable=False, help_text="All the sheet's words, kept for search."
    )
    content_version = models.PositiveIntegerField(
        default=1, help_text="Raised on every edit, so each emailed report names what it used."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # What load_factsheets last loaded (factsheets/services.py), so an upgrade can tell a sheet
    # whose shipped file has changed since, and whether staff have edited it meanwhile.
    shipped_slug = models.SlugField(
        max_length=120,
        blank=True,
        default="",
        editable=False,
        help_text="The shipped file (factsheets/content/<this>.json) the sheet was loaded from, "
        "whatever it has been renamed since; empty for a sheet written in admin.",
    )
    shipped_sha256 = models.CharField(
        max_length=64,
        blank=True,
        default="",
        editable=False,
        help_text="SHA-256 of the shipped JSON file the sheet was last loaded from (or reviewed "
        "against with load_factsheets --keep); empty when not known.",
    )
    loaded_content_sha256 = models.CharField(
        max_length=64,
        blank=True,
        default="",
        editable=False,
        help_text="Fingerprint of the sheet's content as load_factsheets last wrote it, to tell "
        "whether staff have edited it since; empty when not known.",
    )

    objects = FactSheetQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        """Save, noting when the sheet is withdrawn and keeping its old address when renamed.

        Pages of a sheet stay open in browsers and in shared caches after an edit, and their
        forms post to the address they were loaded from: what is sent from them must still
        find the sheet (leads/views.py), and links and bookmarks must still lead to it.
        """
        adding = self._state.adding
        update_fields = kwargs.get("update_fields")

        def writes(field: str) -> bool:
            return update_fields is None or field in update_fields

        before = None
        if not adding and (writes("slug") or writes("published")):
            before = FactSheet.objects.filter(pk=self.pk).values("slug", "published").first()
        published_changed = bool(
            before and writes("published") and before["published"] != self.published
        )
        if published_changed:
            self.withdrawn_at = None if self.published else timezone.now()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "withdrawn_at"}
        renamed_from = None
        if before and writes("slug") and before["slug"] != self.slug:
            renamed_from = before["slug"]
        slug, published = self.slug, self.published  # as they will be in the database
        if before and not writes("slug"):
            slug = before["slug"]
        if before and not writes("published"):
            published = before["published"]
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            if published and (adding or renamed_from or published_changed):
                # A sheet on the site owns its address: another sheet's former address is let
                # go. A draft does not take one over, so links to it still lead somewhere.
                FormerSlug.objects.filter(slug=slug).delete()
            if renamed_from and (before["published"] or self.withdrawn_at):
                # Only an address that showed a page: a draft's never did (and one given
                # another sheet's former address must not take it over by moving on).
                FormerSlug.objects.update_or_create(
                    slug=renamed_from, defaults={"sheet": self, "replaced_at": timezone.now()}
                )

    def get_absolute_url(self) -> str:
        return reverse("factsheets:detail", kwargs={"slug": self.slug})

    @property
    def withdrawn(self) -> bool:
        """Taken off the site after being on it (a draft never published is not withdrawn)."""
        return not self.published and self.withdrawn_at is not None

    def refresh_search_document(self) -> None:
        """Gather every word a reader could search for into one field (saved by the caller)."""
        parts = [self.title, self.subtitle, self.summary]
        parts += [text for flag in self.red_flags.all() for text in (flag.text, flag.symptom)]
        for section in self.sections.all():
            parts += [section.heading, section.body, *section.bullets]
        for table in self.tables.all():
            parts += [table.caption, *table.header, *(cell for row in table.rows for cell in row)]
        self.search_document = "\n".join(part for part in parts if part)


class RedFlag(models.Model):
    sheet = models.ForeignKey(FactSheet, on_delete=models.CASCADE, related_name="red_flags")
    level = models.CharField(max_length=12, choices=ActionLevel.choices)
    text = models.CharField(max_length=300, help_text="The warning sign and what to do.")
    symptom = models.CharField(
        max_length=200, blank=True, help_text='The sign alone, for "Tick any that apply to you".'
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class Section(models.Model):
    """A titled block of body text. Sections and tables share one ``position`` order."""

    sheet = models.ForeignKey(FactSheet, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(default=0)
    heading = models.CharField(max_length=200)
    body = models.TextField(help_text="Paragraphs separated by a blank line.")
    bullets = models.JSONField(default=list, blank=True, help_text="Optional list of points.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.heading

    @property
    def paragraphs(self) -> list[str]:
        # Bodies saved from a browser before TextField (factsheets/admin.py) may hold CRLFs.
        return [p.strip() for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip()]


class SheetTable(models.Model):
    sheet = models.ForeignKey(FactSheet, on_delete=models.CASCADE, related_name="tables")
    position = models.PositiveIntegerField(default=0)
    caption = models.CharField(max_length=200)
    header = models.JSONField(default=list, help_text="Column headings.")
    rows = models.JSONField(default=list, help_text="Rows, each a list of cells.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.caption


class RelatedSheet(models.Model):
    """A pointer to another sheet by slug: it may not be written yet, so no foreign key."""

    sheet = models.ForeignKey(FactSheet, on_delete=models.CASCADE, related_name="related")
    position = models.PositiveIntegerField(default=0)
    target_slug = models.SlugField(max_length=120)
    title = models.CharField(max_length=120)
    blurb = models.CharField(max_length=240, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class FormerSlug(models.Model):
    """An address a sheet had before it was renamed: links to it lead to the sheet's page."""

    slug = models.SlugField(max_length=120, unique=True)
    sheet = models.ForeignKey(FactSheet, on_delete=models.CASCADE, related_name="former_slugs")
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-replaced_at"]
        verbose_name = "former web address"

    def __str__(self) -> str:
        return reverse("factsheets:detail", kwargs={"slug": self.slug})


class Source(models.Model):
    sheet = models.ForeignKey(FactSheet, on_delete=models.CASCADE, related_name="sources")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200)
    url = models.URLField(blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title
