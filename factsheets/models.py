from django.db import models
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


class FactSheetQuerySet(models.QuerySet):
    def published(self) -> "FactSheetQuerySet":
        return self.filter(published=True)

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
    published = models.BooleanField(default=False)
    content_version = models.PositiveIntegerField(
        default=1, help_text="Raised on every save, so each emailed report names what it used."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = FactSheetQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("factsheets:detail", kwargs={"slug": self.slug})


class RedFlag(models.Model):
    sheet = models.ForeignKey(FactSheet, on_delete=models.CASCADE, related_name="red_flags")
    level = models.CharField(max_length=12, choices=ActionLevel.choices)
    text = models.CharField(max_length=300)
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
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


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
