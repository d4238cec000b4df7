from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from factsheets.admin import SheetTableForm
from factsheets.models import FactSheet, SheetTable
from tests.db_locks import raw_connections, sessions_waiting_on_a_lock
from tests.factories import FactSheetFactory, UserFactory
from tests.html_forms import form_data

SHIPPED_SLUGS = sorted(
    path.stem for path in (Path(__file__).parents[2] / "factsheets" / "content").glob("*.json")
)
INLINE_PREFIXES = ["red_flags", "sections", "tables", "related", "sources"]
SOMEONE_ELSE_SAVED = "Someone else saved changes to this sheet after you opened it"


def _change_url(sheet: FactSheet) -> str:
    return reverse("admin:factsheets_factsheet_change", args=[sheet.pk])


def _form_as_submitted(admin_client, sheet: FactSheet) -> dict[str, str]:
    """The change form as a browser sends it: textareas' lines end in CRLF (the HTML spec)."""
    data = form_data(admin_client.get(_change_url(sheet)).content.decode(), "factsheet_form")
    return {name: value.replace("\n", "\r\n") for name, value in data.items()}


def test_factsheet_change_page_renders_every_inline(admin_client, spinal_metastases):
    response = admin_client.get(_change_url(spinal_metastases))

    html = response.content.decode()
    assert response.status_code == 200
    for prefix in INLINE_PREFIXES:
        assert f'id="{prefix}-heading"' in html
    assert 'name="red_flags-TOTAL_FORMS" value="12"' in html
    assert 'name="tables-TOTAL_FORMS" value="2"' in html
    assert "Prostate cancer | The most common source in men." in html


def test_factsheet_admin_edit_raises_content_version_by_one(admin_client, spinal_metastases):
    before = spinal_metastases.content_version
    data = _form_as_submitted(admin_client, spinal_metastases)
    data["summary"] = "Edited by staff in admin."

    response = admin_client.post(_change_url(spinal_metastases), data)

    assert response.status_code == 302
    sheet = FactSheet.objects.get(pk=spinal_metastases.pk)
    assert sheet.summary == "Edited by staff in admin."
    assert sheet.content_version == before + 1


def test_factsheet_admin_save_keeps_inline_content_unchanged(admin_client, spinal_metastases):
    tables_before = list(spinal_metastases.tables.values_list("header", "rows"))
    bullets_before = list(spinal_metastases.sections.values_list("bullets", flat=True))
    flags_before = spinal_metastases.red_flags.count()
    data = _form_as_submitted(admin_client, spinal_metastases)

    response = admin_client.post(_change_url(spinal_metastases), data)

    assert response.status_code == 302
    assert list(spinal_metastases.tables.values_list("header", "rows")) == tables_before
    assert list(spinal_metastases.sections.values_list("bullets", flat=True)) == bullets_before
    assert spinal_metastases.red_flags.count() == flags_before
    # Nothing was edited, so no new version of the same words, and the page's date stands.
    sheet = FactSheet.objects.get(pk=spinal_metastases.pk)
    assert sheet.content_version == spinal_metastases.content_version
    assert sheet.updated_at == spinal_metastases.updated_at


def test_factsheet_admin_edit_of_an_inline_alone_raises_content_version(
    admin_client, spinal_metastases
):
    before = spinal_metastases.content_version
    data = _form_as_submitted(admin_client, spinal_metastases)
    data["red_flags-0-text"] += " (reworded)"

    assert admin_client.post(_change_url(spinal_metastases), data).status_code == 302

    sheet = FactSheet.objects.get(pk=spinal_metastases.pk)
    assert sheet.content_version == before + 1
    assert sheet.updated_at > spinal_metastases.updated_at
    assert sheet.red_flags.first().text.endswith(" (reworded)")


def test_factsheet_admin_edit_of_a_table_row_is_saved_as_json(admin_client, spinal_metastases):
    table = spinal_metastases.tables.first()
    data = _form_as_submitted(admin_client, spinal_metastases)
    data["tables-0-rows"] += "\nKidney cancer | Added by staff."

    admin_client.post(_change_url(spinal_metastases), data)

    table.refresh_from_db()
    assert table.rows[-1] == ["Kidney cancer", "Added by staff."]


def test_factsheet_admin_rejects_a_table_row_with_wrong_cell_count(admin_client, spinal_metastases):
    before = spinal_metastases.content_version
    data = _form_as_submitted(admin_client, spinal_metastases)
    data["tables-0-rows"] += "\nKidney cancer | Added | one cell too many"

    response = admin_client.post(_change_url(spinal_metastases), data)

    assert response.status_code == 200
    assert "Row 8 has 3 cells but there are 2 headings." in response.content.decode()
    assert FactSheet.objects.get(pk=spinal_metastases.pk).content_version == before


def test_a_next_review_due_before_the_last_review_is_refused(admin_client, spinal_metastases):
    """Saved, the page would say "Next review due: 1 January 2020" under a 2026 review."""
    before = spinal_metastases.content_version
    data = _form_as_submitted(admin_client, spinal_metastases)
    data["next_review_due"] = "2020-01-01"

    response = admin_client.post(_change_url(spinal_metastases), data)

    assert response.status_code == 200
    assert "The next review must be due after the last one." in response.content.decode()
    assert 'value="2020-01-01"' in response.content.decode()  # as typed, to correct
    assert FactSheet.objects.get(pk=spinal_metastases.pk).content_version == before


def test_sheet_table_form_turns_lines_into_json_rows(db):
    sheet = FactSheetFactory()
    form = SheetTableForm(
        data={
            "position": "0",
            "caption": "Tests",
            "header": "Test | What it is for",
            "rows": "MRI | Shows the spinal cord\n\n  CT |  Shows the bones  \n",
        },
        instance=SheetTable(sheet=sheet),
    )

    assert form.is_valid(), form.errors
    form.save()

    table = SheetTable.objects.get(sheet=sheet)
    assert table.header == ["Test", "What it is for"]
    assert table.rows == [["MRI", "Shows the spinal cord"], ["CT", "Shows the bones"]]


def test_sheet_table_form_shows_saved_rows_as_lines(db):
    table = SheetTable.objects.create(
        sheet=FactSheetFactory(), caption="Tests", header=["Test", "Use"], rows=[["MRI", "Cord"]]
    )

    form = SheetTableForm(instance=table)

    assert form["header"].value() == "Test | Use"
    assert form["rows"].value() == "MRI | Cord"


def test_sheet_table_form_rejects_row_with_different_cell_count(db):
    form = SheetTableForm(
        data={
            "position": "0",
            "caption": "Tests",
            "header": "Test | What it is for",
            "rows": "MRI | Shows the spinal cord\nCT\nX-ray | Bones | Extra",
        },
        instance=SheetTable(sheet=FactSheetFactory()),
    )

    assert not form.is_valid()
    assert form.errors["rows"] == [
        "Row 2 has 1 cells but there are 2 headings.",
        "Row 3 has 3 cells but there are 2 headings.",
    ]


def test_sheet_table_form_requires_a_header(db):
    form = SheetTableForm(
        data={"position": "0", "caption": "Tests", "header": "  ", "rows": "MRI | Cord"},
        instance=SheetTable(sheet=FactSheetFactory()),
    )

    assert not form.is_valid()
    assert "header" in form.errors


@pytest.mark.parametrize("slug", SHIPPED_SLUGS)
def test_every_shipped_sheet_can_be_saved_from_its_change_page(admin_client, shipped_sheets, slug):
    """The longest sheets' change pages send hundreds of fields (one per red flag, section,
    table, link and source, times each one's columns); a content editor must be able to save
    them, not get the 400 page."""
    sheet = shipped_sheets[slug]
    data = _form_as_submitted(admin_client, sheet)
    data["summary"] = sheet.summary + " Checked by staff."

    response = admin_client.post(_change_url(sheet), data)

    assert response.status_code == 302, (len(data), len(urlencode(data, doseq=True)))
    assert FactSheet.objects.get(pk=sheet.pk).summary.endswith("Checked by staff.")


def test_a_section_edited_in_a_browser_keeps_its_paragraphs_apart(
    admin_client, client, spinal_metastases
):
    data = _form_as_submitted(admin_client, spinal_metastases)
    data["sections-0-body"] = "A first paragraph, edited.\r\n\r\nA second paragraph, edited."

    assert admin_client.post(_change_url(spinal_metastases), data).status_code == 302

    html = client.get(spinal_metastases.get_absolute_url()).content.decode()
    assert "<p>A first paragraph, edited.</p><p>A second paragraph, edited.</p>" in html
    assert "\r" not in spinal_metastases.sections.first().body


def _content_editor() -> Client:
    """A member of staff who edits sheets. A superuser: the tests with real transactions
    empty the database after them, the roles' groups (made by a migration) included."""
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "my_edit",
    [
        {"subtitle": "My subtitle."},
        {"sections-0-body": "My section text."},
        {},  # Save pressed with nothing changed: it would still write the old words back
    ],
    ids=["a field", "an inline", "nothing"],
)
def test_a_page_opened_before_a_colleagues_save_does_not_put_their_words_back(
    admin_client, spinal_metastases, my_edit
):
    before = spinal_metastases.content_version
    mine = _form_as_submitted(admin_client, spinal_metastases)  # opened first, left open
    colleague = _content_editor()
    theirs = _form_as_submitted(colleague, spinal_metastases)
    theirs["summary"] = "Corrected by a colleague."
    assert colleague.post(_change_url(spinal_metastases), theirs).status_code == 302

    response = admin_client.post(_change_url(spinal_metastases), mine | my_edit)

    html = response.content.decode()
    assert response.status_code == 200
    assert SOMEONE_ELSE_SAVED in html
    for typed in my_edit.values():
        assert typed in html  # kept on the page to copy
    sheet = FactSheet.objects.get(pk=spinal_metastases.pk)
    assert sheet.summary == "Corrected by a colleague."
    assert sheet.subtitle == spinal_metastases.subtitle
    assert sheet.sections.first().body == spinal_metastases.sections.first().body
    assert sheet.content_version == before + 1

    # Opened again, the page shows the colleague's words and saves over them knowingly.
    again = _form_as_submitted(admin_client, spinal_metastases) | {"subtitle": "My subtitle."}
    assert admin_client.post(_change_url(spinal_metastases), again).status_code == 302
    sheet = FactSheet.objects.get(pk=spinal_metastases.pk)
    assert (sheet.summary, sheet.subtitle) == ("Corrected by a colleague.", "My subtitle.")
    assert sheet.content_version == before + 2


@pytest.mark.django_db(transaction=True)
def test_of_two_editors_pressing_save_together_the_second_is_told_and_changes_nothing(
    shipped_sheets,
):
    """Both pages were opened at the same version and both saves arrive while the row is
    held: the first to get it saves, the other must see that save, not write over it."""
    sheet = shipped_sheets["spinal-metastases"]
    before = sheet.content_version
    editors = {"summary": _content_editor(), "subtitle": _content_editor()}
    pages = {field: _form_as_submitted(client, sheet) for field, client in editors.items()}
    connection.close()
    locker, watcher = raw_connections(connection, 2)
    watcher.autocommit = True
    with locker.cursor() as cursor:
        cursor.execute("SELECT id FROM factsheets_factsheet WHERE id = %s FOR UPDATE", [sheet.pk])

    def save(field: str):
        try:
            data = pages[field] | {field: f"Edited {field}."}
            return editors[field].post(_change_url(sheet), data)
        finally:
            connection.close()

    pool = ThreadPoolExecutor(max_workers=2)
    try:
        saves = {field: pool.submit(save, field) for field in editors}
        sessions_waiting_on_a_lock(watcher, count=2, query_like='%"factsheets_factsheet"%')
        locker.rollback()
        responses = {field: saving.result(timeout=60) for field, saving in saves.items()}
    finally:
        locker.close()
        pool.shutdown()
        watcher.close()

    statuses = sorted(response.status_code for response in responses.values())
    assert statuses == [200, 302]
    [(loser, refused)] = [(f, r) for f, r in responses.items() if r.status_code == 200]
    [winner] = [field for field in editors if field != loser]
    assert SOMEONE_ELSE_SAVED in refused.content.decode()
    saved = FactSheet.objects.get(pk=sheet.pk)
    assert getattr(saved, winner) == f"Edited {winner}."
    assert getattr(saved, loser) == getattr(sheet, loser)
    assert saved.content_version == before + 1


@pytest.mark.django_db(transaction=True)
def test_a_save_writes_back_what_load_factsheets_recorded_while_it_waited(shipped_sheets):
    """Admin writes every column back, the loader's bookkeeping too. A `--keep` recorded
    after the save read the sheet, but before it got the row, must not be undone."""
    sheet = shipped_sheets["spinal-metastases"]
    editor = _content_editor()
    page = _form_as_submitted(editor, sheet) | {"subtitle": "Edited meanwhile."}
    connection.close()
    locker, watcher = raw_connections(connection, 2)
    watcher.autocommit = True
    with locker.cursor() as cursor:
        cursor.execute("SELECT id FROM factsheets_factsheet WHERE id = %s FOR UPDATE", [sheet.pk])

    def save():
        try:
            return editor.post(_change_url(sheet), page)
        finally:
            connection.close()

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        saving = pool.submit(save)
        sessions_waiting_on_a_lock(watcher, count=1, query_like='%"factsheets_factsheet"%')
        with locker.cursor() as cursor:  # what `load_factsheets --keep` records
            cursor.execute(
                "UPDATE factsheets_factsheet SET shipped_sha256 = %s WHERE id = %s",
                ["f" * 64, sheet.pk],
            )
        locker.commit()
        response = saving.result(timeout=60)
    finally:
        locker.close()
        pool.shutdown()
        watcher.close()

    assert response.status_code == 302
    saved = FactSheet.objects.get(pk=sheet.pk)
    assert saved.subtitle == "Edited meanwhile."
    assert saved.shipped_sha256 == "f" * 64
