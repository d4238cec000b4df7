from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format

from .models import FactSheet, FormerSlug, RedFlag, RelatedSheet, Section, SheetTable, Source

CELL_SEPARATOR = "|"


class TextField(forms.CharField):
    """Text from a textarea, with the browser's CRLF line endings made LF as stored: a Save
    that changes no word is then no change (no new content version), and blank lines still
    part a section's paragraphs."""

    widget = forms.Textarea

    def to_python(self, value) -> str:
        return super().to_python(value).replace("\r\n", "\n")


class LinesField(forms.CharField):
    """A list of strings edited as one item per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class RowsField(forms.CharField):
    """Table rows edited as one row per line, cells separated by "|"."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 100})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f" {CELL_SEPARATOR} ".join(row) for row in value)
        return value

    def to_python(self, value) -> list[list[str]]:
        return [
            [cell.strip() for cell in line.split(CELL_SEPARATOR)]
            for line in (value or "").splitlines()
            if line.strip()
        ]


class HeaderField(RowsField):
    widget = forms.TextInput(attrs={"size": 80})

    def prepare_value(self, value):
        if isinstance(value, list):
            return f" {CELL_SEPARATOR} ".join(value)
        return value

    def to_python(self, value) -> list[str]:
        rows = super().to_python(value)
        return rows[0] if rows else []


class SheetTableForm(forms.ModelForm):
    header = HeaderField(help_text='Column headings separated by "|".')
    rows = RowsField(help_text='One row per line; cells separated by "|".')

    class Meta:
        model = SheetTable
        fields = ["position", "caption", "header", "rows"]

    def clean(self) -> dict:
        cleaned = super().clean()
        header, rows = cleaned.get("header") or [], cleaned.get("rows") or []
        for number, row in enumerate(rows, start=1):
            if header and len(row) != len(header):
                self.add_error(
                    "rows",
                    f"Row {number} has {len(row)} cells but there are {len(header)} headings.",
                )
        return cleaned


class SectionForm(forms.ModelForm):
    body = TextField(help_text=Section._meta.get_field("body").help_text)
    bullets = LinesField(required=False, help_text="Optional: one point per line.")

    class Meta:
        model = Section
        fields = ["position", "heading", "body", "bullets"]


class FactSheetForm(forms.ModelForm):
    questions = LinesField(required=False, help_text="Optional: one question per line.")
    # The content version the page showed. Admin writes every field and inline back on Save,
    # so a page opened before a colleague's save would put their words back as they were.
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = FactSheet
        fields = [
            "title",
            "slug",
            "subtitle",
            "summary",
            "banner_level",
            "banner_text",
            "last_reviewed",
            "next_review_due",
            "published",
            "asks_cancer_history",
            "questions",
        ]
        help_texts = {
            # Read before anything else on the page: "Red flag: urgent" above a "Call 999"
            # box could be taken as the whole answer (tests/factsheets/test_content.py).
            "banner_text": "Shown above the title. Do not name a level here (such as "
            '"urgent"): the coloured boxes below it say what to do and how soon.',
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["opened_version"].initial = self.instance.content_version

    def clean(self) -> dict:
        cleaned = super().clean()
        reviewed, due = cleaned.get("last_reviewed"), cleaned.get("next_review_due")
        if reviewed and due and due <= reviewed:
            # The page would tell readers a review was due before the last one was done.
            self.add_error("next_review_due", "The next review must be due after the last one.")
        if self.instance.pk:
            # Read and locked until the save is done (admin saves in one transaction), so
            # of two editors who press Save together, the second waits and sees the first's.
            # "No key": patients' requests, which only refer to the sheet, need not wait.
            current = FactSheet.objects.select_for_update(no_key=True).get(pk=self.instance.pk)
            # Admin writes every column back, those not on the form too: as they are now, not
            # as read before the lock (load_factsheets --keep may have moved them meanwhile).
            for field in FactSheet._meta.concrete_fields:
                if field.name not in self.fields:
                    setattr(self.instance, field.attname, getattr(current, field.attname))
            if cleaned.get("opened_version") != current.content_version:
                raise forms.ValidationError(
                    "Someone else saved changes to this sheet after you opened it, so nothing "
                    "you entered was saved: saving it would have put their changes back as "
                    "they were. What you typed is still below. Copy anything you need, then "
                    "open the sheet again and make your changes to the version it has now."
                )
        return cleaned


class RedFlagForm(forms.ModelForm):
    class Meta:
        model = RedFlag
        fields = ["level", "text", "symptom", "position"]
        help_texts = {
            # factsheets.assessment.says_straight_away reads the words themselves.
            "text": (
                'The warning sign and what to do. For an urgent sign, the words "straight '
                'away" (or "immediately", "right away", "at once") make the self-check tell '
                "whoever ticks it to get advice straight away, not just today."
            ),
        }


class RedFlagInline(admin.TabularInline):
    model = RedFlag
    form = RedFlagForm
    extra = 0


class SectionInline(admin.StackedInline):
    model = Section
    form = SectionForm
    extra = 0


class SheetTableInline(admin.StackedInline):
    model = SheetTable
    form = SheetTableForm
    extra = 0


class RelatedSheetInline(admin.TabularInline):
    model = RelatedSheet
    extra = 0


class SourceInline(admin.TabularInline):
    model = Source
    extra = 0


class FormerSlugInline(admin.TabularInline):
    """Addresses the sheet had before it was renamed: they lead to its page. Made by renaming
    (FactSheet.save); deleting one lets the address go, for another sheet or for none."""

    model = FormerSlug
    extra = 0
    fields = ["slug", "replaced_at"]
    readonly_fields = ["slug", "replaced_at"]
    verbose_name_plural = "Former web addresses (links to them lead to this sheet)"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(FactSheet)
class FactSheetAdmin(admin.ModelAdmin):
    form = FactSheetForm
    list_display = ["title", "on_the_site", "last_reviewed", "next_review_due", "content_version"]
    list_filter = ["published", "banner_level"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["content_version", "updated_at", "withdrawn_at"]

    class Media:
        js = ["js/admin-save-once.js"]

    inlines = [
        RedFlagInline,
        SectionInline,
        SheetTableInline,
        RelatedSheetInline,
        SourceInline,
        FormerSlugInline,
    ]

    @admin.display(description="On the site", ordering="published")
    def on_the_site(self, sheet: FactSheet) -> str:
        """A withdrawn sheet and a draft are both unpublished, but only one was ever read."""
        if sheet.published:
            return "Published"
        if sheet.withdrawn:
            return f"Withdrawn {date_format(timezone.localtime(sheet.withdrawn_at), 'j M Y')}"
        return "Draft, never published"

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """Save the inlines, then raise the version and the date only if anything changed:
        each emailed report names the version it used, and the page's Last-Modified is the
        date, so a Save with no edit must not make a new version of the same words."""
        super().save_related(request, form, formsets, change)
        sheet = form.instance
        sheet.refresh_search_document()
        fields = ["search_document"]
        edited = form.changed_data or any(
            formset.new_objects or formset.changed_objects or formset.deleted_objects
            for formset in formsets
            if formset.model is not FormerSlug  # letting an old address go changes no words
        )
        if change and edited:
            sheet.content_version += 1
            sheet.updated_at = timezone.now()
            fields += ["content_version", "updated_at"]
        sheet.save(update_fields=fields)
        if change and "published" in form.changed_data:
            # Said apart from admin's "changed successfully", which does not say what
            # taking a sheet off the site (or putting it back) means for readers.
            if sheet.published:
                text = f"“{sheet.title}” is back on the site, at {sheet.get_absolute_url()}."
            else:
                text = (
                    f"“{sheet.title}” is now withdrawn: its address says it has been taken "
                    "off the site and shows none of its content, and report requests for it "
                    "are refused. Tick Published to put it back."
                )
            self.message_user(request, text, messages.WARNING)
