"""Export log entries made before the log stopped keeping search terms: keep only that there
was a search (as leads/admin/pages.py now logs it). A search term is a patient's name, email
address or phone number, and the export log is kept for good."""

from urllib.parse import parse_qsl, urlencode

from django.db import migrations

SEARCH_VAR = "q"  # django.contrib.admin.views.main.SEARCH_VAR


def without_search_term(filters: str) -> str:
    pairs = parse_qsl(filters, keep_blank_values=True)
    kept = [(name, value) for name, value in pairs if name != SEARCH_VAR]
    searched = any(value.strip() for name, value in pairs if name == SEARCH_VAR)
    return " ".join(filter(None, [urlencode(kept), "and a search" if searched else ""]))


def forget_search_terms(apps, schema_editor):
    ExportLog = apps.get_model("leads", "ExportLog")
    for log in ExportLog.objects.filter(filters__contains=f"{SEARCH_VAR}=").only("filters"):
        cleaned = without_search_term(log.filters)
        if cleaned != log.filters:
            ExportLog.objects.filter(pk=log.pk).update(filters=cleaned)


class Migration(migrations.Migration):
    dependencies = [("leads", "0006_subject_access_permission")]

    operations = [migrations.RunPython(forget_search_terms, migrations.RunPython.noop)]
