"""Export log entries made before the log kept only the list's own filters: a lookup typed
into the address by hand (``?email=…``, ``?description__icontains=…``) is kept by its name
alone, as leads/admin/pages.py now logs it. Its value could be a patient's details, and the
export log is kept for good, erasure or not."""

from urllib.parse import parse_qsl, urlencode

from django.db import migrations

SEARCHED = "and a search"
# Admin's own parameters ("Show counts", …), not filters: dropped, as the view now drops them.
ADMINS_OWN = {"all", "q", "_facets", "_popup", "_source_model", "_to_field"}
# The consultation list's own filters, date hierarchy and order as they were when this was
# written (a migration must not follow the admin as it changes).
OWN = {
    "o",
    "status",
    "assigned",
    "promise",
    "urgency__exact",
    "urgency__isnull",
    "sheet__id__exact",
    "sheet__isnull",
    "contact_method__exact",
    "contact_method__isnull",
    "close_reason__exact",
    "close_reason__isnull",
    "created_at__year",
    "created_at__month",
    "created_at__day",
}


def without_typed_lookups(filters: str) -> str:
    if filters == "selected rows":
        return filters
    searched = filters.endswith(SEARCHED)  # alone, or after the filters and a space
    pairs = parse_qsl(filters.removesuffix(SEARCHED).strip(), keep_blank_values=True)
    typed = sorted({name for name, _ in pairs if name not in OWN | ADMINS_OWN})
    if not typed and all(name in OWN for name, _ in pairs):
        return filters
    kept = urlencode([(name, value) for name, value in pairs if name in OWN])
    return " ".join(
        filter(
            None,
            [
                kept,
                f"and filters typed by hand ({', '.join(typed)})" if typed else "",
                "and a search" if searched else "",
            ],
        )
    )


def forget_typed_lookups(apps, schema_editor):
    ExportLog = apps.get_model("leads", "ExportLog")
    for log in ExportLog.objects.only("filters").iterator():
        cleaned = without_typed_lookups(log.filters)
        if cleaned != log.filters:
            ExportLog.objects.filter(pk=log.pk).update(filters=cleaned)


class Migration(migrations.Migration):
    dependencies = [("leads", "0009_consultation_email_optional")]

    operations = [migrations.RunPython(forget_typed_lookups, migrations.RunPython.noop)]
