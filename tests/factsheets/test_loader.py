from factsheets.models import FactSheet
from factsheets.services import load_shipped_content


def test_load_shipped_content_is_idempotent(db):
    first = load_shipped_content()
    second = load_shipped_content()

    assert all(written for _, written in first)
    assert not any(written for _, written in second)
    assert FactSheet.objects.count() == len(first)


def test_load_shipped_content_keeps_staff_edits_unless_replaced(spinal_metastases):
    FactSheet.objects.filter(pk=spinal_metastases.pk).update(summary="Edited by staff")

    load_shipped_content()
    assert FactSheet.objects.get(pk=spinal_metastases.pk).summary == "Edited by staff"

    load_shipped_content(replace=True)
    sheet = FactSheet.objects.get(pk=spinal_metastases.pk)
    assert sheet.summary != "Edited by staff"
    assert sheet.content_version == spinal_metastases.content_version + 1


def test_shipped_spinal_metastases_keeps_the_seed_structure(spinal_metastases):
    tables = list(spinal_metastases.tables.all())

    assert spinal_metastases.red_flags.filter(level="emergency").exists()
    assert spinal_metastases.red_flags.filter(level="urgent").exists()
    assert [len(t.rows) for t in tables] == [7, 7]
    assert [r.target_slug for r in spinal_metastases.related.all()] == [
        "prostate-cancer-and-back-pain",
        "cauda-equina-syndrome",
        "multiple-myeloma",
        "osteoporosis",
        "metastatic-spinal-cord-compression",  # not in the seed: its signs, in more detail
    ]
    assert spinal_metastases.sources.count() >= 1


def test_shipped_mscc_sheet_names_nice_ng234_and_the_mri_timing(shipped_sheets):
    sheet = shipped_sheets["metastatic-spinal-cord-compression"]
    text = " ".join(s.body for s in sheet.sections.all())

    assert any("NG234" in s.title for s in sheet.sources.all())
    assert "within 1 week" in text
    assert sheet.sections.filter(heading__icontains="question").exists()
