"""Export log entries made before the log kept only the list's own filters: a lookup typed
into the address by hand (``?email=…``, ``?description__icontains=…``) is kept by its name
alone, as leads/admin/pages.py now logs it. Its value could be a patient's details, and the
export log is kept for good, erasure or not."""

from urllib.parse import parse_qsl, urlencode

from django.db import migrations

SEARCHED = " and a search"
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
    query, searched = filters.removesuffix(SEARCHED), filters.endswith(SEARCHED)
    pairs = parse_qsl(query, keep_blank_values=True)
    typed = sorted({name for name, _ in pairs if name not in OWN})
    if not typed:
        return filters
    kept = urlencode([(name, value) for name, value in pairs if name in OWN])
    return " ".join(
        filter(
            None,
            [
                kept,
                f"and filters typed by hand ({', '.join(typed)})",
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
