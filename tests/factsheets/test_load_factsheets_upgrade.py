"""Upgrading a site whose shipped sheets have changed: what `load_factsheets` tells the person
running it, and what it leaves in the database.

The scenario is the real one: commit 6dcc40c corrected the prostate sheet (bladder or bowel
problems with back pain are an emergency for everyone, not only for men with cancer). A site
that loaded the release before keeps the old wording until someone replaces the sheet; the
command must say so, and replace only what it is asked to.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from factsheets import services
from factsheets.models import FactSheet
from tests.html_forms import form_data

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = services.CONTENT_DIR
PROSTATE = "prostate-cancer-and-back-pain"
BEFORE_6DCC40C_FILE = Path(__file__).parent / "data" / f"{PROSTATE}.before-6dcc40c.json"
PROSTATE_PAGE = f"/factsheets/{PROSTATE}/"
# The paragraph as commit 6dcc40c corrected it (since extended to men who have had prostate
# cancer), and as it was before.
CORRECTED = (
    "Problems controlling your bladder or bowels along with back pain are different: they are an "
    "emergency, whether or not you have cancer. Go to A&E straight away, or call 999 if you have, "
    "or have had, prostate cancer."
)
BEFORE_6DCC40C = (
    "If you have prostate cancer, problems controlling your bladder or bowels along with back "
    "pain are different. They are an emergency: call 999 or go to A&E straight away."
)
# Words of each that a page shows as they are (no "&" to escape).
CORRECTED_WORDS = "an emergency, whether or not you have cancer"
OLD_WORDS = "If you have prostate cancer, problems controlling your bladder or bowels"


def run(*args: str) -> tuple[str, str]:
    """Run the command as an operator would; returns what it printed (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("load_factsheets", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def previous_release(folder: Path) -> Path:
    """A copy of the shipped content with the prostate sheet as it was before 6dcc40c."""
    shutil.copytree(SHIPPED, folder)
    path = folder / f"{PROSTATE}.json"
    text = path.read_text(encoding="utf-8")
    assert json.dumps(CORRECTED) in text, "the prostate sheet no longer has 6dcc40c's wording"
    path.write_text(text.replace(json.dumps(CORRECTED), json.dumps(BEFORE_6DCC40C)), "utf-8")
    return folder


def load_previous_release(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(services, "CONTENT_DIR", previous_release(tmp_path / "content"))
    run()
    # The upgrade: this release's code and content.
    monkeypatch.setattr(services, "CONTENT_DIR", SHIPPED)


@pytest.fixture
def site_on_previous_release(db, tmp_path, monkeypatch) -> FactSheet:
    """A site that loaded the release before 6dcc40c; the prostate sheet as it loaded it."""
    load_previous_release(tmp_path, monkeypatch)
    return FactSheet.objects.get(slug=PROSTATE)


def prostate_text() -> str:
    return " ".join(FactSheet.objects.get(slug=PROSTATE).sections.values_list("body", flat=True))


def versions() -> dict[str, tuple[int, object]]:
    return {s.slug: (s.content_version, s.updated_at) for s in FactSheet.objects.all()}


def sha256_of_shipped(slug: str) -> str:
    return hashlib.sha256((SHIPPED / f"{slug}.json").read_bytes()).hexdigest()


def test_a_sheet_whose_shipped_file_changed_is_warned_about_and_left_as_it_is(
    site_on_previous_release,
):
    before = versions()

    out, err = run()

    assert f'WARNING: {PROSTATE} ("Prostate cancer and back pain") is out of date' in err
    assert "no staff edits since it was loaded: replacing it loses nothing" in err
    assert f"python manage.py load_factsheets --replace {PROSTATE}" in err
    assert (
        f"1 fact sheet is out of date with the version shipped with this release: {PROSTATE}."
        in (err)
    )
    assert err.count("WARNING:") == 2  # the sheet, and the summary naming it
    for slug in set(before) - {PROSTATE}:
        assert f"{slug}: already present, same as its shipped version" in out
    assert PROSTATE not in out
    # Nothing was overwritten: the site still shows the old wording, at the same version.
    assert BEFORE_6DCC40C in prostate_text() and CORRECTED not in prostate_text()
    assert versions() == before


def test_no_warning_right_after_a_load_and_the_check_passes(db):
    first, _ = run()

    out, err = run("--check")

    assert first.count(": loaded") == len(list(SHIPPED.glob("*.json"))) == 7
    assert err == ""
    assert out.count(": already present, same as its shipped version") == 7
    for sheet in FactSheet.objects.all():
        assert sheet.shipped_sha256 == sha256_of_shipped(sheet.slug)  # what sha256sum prints


def test_check_fails_while_a_sheet_is_out_of_date_and_passes_once_it_is_replaced(
    site_on_previous_release,
):
    with pytest.raises(CommandError) as failed:
        run("--check")

    assert failed.value.returncode == 1
    assert (
        f"1 fact sheet is out of date with the version shipped with this release: {PROSTATE}"
        in (str(failed.value))
    )

    run("--replace", PROSTATE)
    out, err = run("--check")

    assert err == ""
    assert f"{PROSTATE}: already present, same as its shipped version" in out


@pytest.mark.django_db(transaction=True)
def test_the_exit_status_of_the_command_itself(tmp_path, monkeypatch):
    load_previous_release(tmp_path, monkeypatch)  # committed: another process sees it
    db = settings.DATABASES["default"]
    env = os.environ | {
        "CLINIC_EMAIL": "enquiries@clinic.example",  # else check warns, and this says stderr is ""
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "load_factsheets", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    plain, check = manage(), manage("--check")
    replace = manage("--replace", PROSTATE)
    again = manage("--check")

    assert plain.returncode == 0 and f"WARNING: {PROSTATE}" in plain.stderr
    assert check.returncode == 1 and f"WARNING: {PROSTATE}" in check.stderr
    assert "CommandError: 1 fact sheet is out of date" in check.stderr
    assert replace.returncode == 0, replace.stderr
    assert again.returncode == 0 and again.stderr == "", again.stderr


def test_replace_one_sheet_changes_only_that_sheet_and_its_cached_page(
    site_on_previous_release, client, django_assert_num_queries
):
    FactSheet.objects.filter(slug="osteoporosis").update(summary="Edited by staff")
    before = versions()
    client.get(PROSTATE_PAGE)
    with django_assert_num_queries(0):  # the page is kept: only an invalidation changes it
        cached = client.get(PROSTATE_PAGE)
    assert OLD_WORDS in cached.content.decode()

    out, err = run("--replace", PROSTATE)

    assert err == ""
    assert f"{PROSTATE}: replaced with the shipped version (now content version 2)" in out
    sheet = FactSheet.objects.get(slug=PROSTATE)
    assert CORRECTED in prostate_text() and BEFORE_6DCC40C not in prostate_text()
    assert sheet.content_version == before[PROSTATE][0] + 1
    assert sheet.updated_at > before[PROSTATE][1]
    assert sheet.shipped_sha256 == sha256_of_shipped(PROSTATE)
    assert {slug: v for slug, v in versions().items() if slug != PROSTATE} == {
        slug: v for slug, v in before.items() if slug != PROSTATE
    }
    assert FactSheet.objects.get(slug="osteoporosis").summary == "Edited by staff"
    page = client.get(PROSTATE_PAGE, headers={"If-None-Match": cached["ETag"]})
    assert page.status_code == 200
    assert CORRECTED_WORDS in page.content.decode() and OLD_WORDS not in page.content.decode()


def test_replace_with_no_names_still_replaces_every_sheet(shipped_sheets):
    FactSheet.objects.filter(slug="osteoporosis").update(summary="Edited by staff")
    before = versions()

    out, err = run("--replace")

    assert err == ""
    assert out.count(": replaced with the shipped version") == len(before) == 7
    assert (
        "osteoporosis: replaced with the shipped version (now content version 2); "
        "any staff edits made before this release were overwritten" not in out
    )
    assert (
        "osteoporosis: replaced with the shipped version (now content version 2); "
        "the staff edits made since it was loaded were overwritten" in out
    )
    assert all(versions()[slug][0] == version + 1 for slug, (version, _) in before.items())
    assert FactSheet.objects.get(slug="osteoporosis").summary != "Edited by staff"


def test_an_unknown_sheet_is_an_error_that_names_it_and_changes_nothing(site_on_previous_release):
    FactSheet.objects.filter(slug="spinal-infection").delete()  # would be loaded by any run
    before = versions()

    with pytest.raises(CommandError, match="No shipped fact sheet is called no-such-sheet; "):
        run("--replace", PROSTATE, "no-such-sheet")

    assert versions() == before
    assert BEFORE_6DCC40C in prostate_text()
    assert not FactSheet.objects.filter(slug="spinal-infection").exists()


def _change_url(sheet: FactSheet) -> str:
    return f"/admin/factsheets/factsheet/{sheet.pk}/change/"


def _admin_form(admin_client, sheet: FactSheet) -> dict[str, str]:
    # As a browser sends it: a textarea's lines end in CRLF.
    html = admin_client.get(_change_url(sheet)).content.decode()
    return {k: v.replace("\n", "\r\n") for k, v in form_data(html, "factsheet_form").items()}


def test_the_warning_says_when_replacing_would_overwrite_staff_edits(
    site_on_previous_release, admin_client
):
    data = _admin_form(admin_client, site_on_previous_release)
    data["red_flags-0-text"] += " Edited by staff."
    assert admin_client.post(_change_url(site_on_previous_release), data).status_code == 302

    _, err = run()

    assert f"WARNING: {PROSTATE}" in err
    assert "Staff have edited it since it was loaded (it is now content version 2)" in err
    assert "replacing it overwrites those edits" in err
    assert f"--keep {PROSTATE}" in err and "loses nothing" not in err


def test_an_admin_save_that_changes_no_word_is_not_a_staff_edit(
    site_on_previous_release, admin_client
):
    data = _admin_form(admin_client, site_on_previous_release)
    assert admin_client.post(_change_url(site_on_previous_release), data).status_code == 302

    _, err = run()

    assert "It has no staff edits since it was loaded: replacing it loses nothing." in err


def test_keep_leaves_the_sheet_as_it_is_and_stops_the_warning(site_on_previous_release):
    before = versions()

    out, err = run("--keep", PROSTATE)
    _, later = run("--check")

    assert err == "" and later == ""
    assert f"{PROSTATE}: kept as it is" in out
    assert versions() == before
    assert BEFORE_6DCC40C in prostate_text()


# Sites that loaded their sheets before the sheets recorded where they came from: the
# migration leaves both fingerprints empty.


def forget_fingerprints() -> None:
    FactSheet.objects.update(shipped_sha256="", loaded_content_sha256="")


def test_an_unrecorded_sheet_that_is_an_earlier_shipped_version_is_safe_to_replace(
    site_on_previous_release, monkeypatch
):
    forget_fingerprints()
    earlier = services.content_fingerprint(site_on_previous_release)
    monkeypatch.setitem(services.EARLIER_SHIPPED_CONTENT, PROSTATE, frozenset({earlier}))

    out, err = run()

    assert f'WARNING: {PROSTATE} ("Prostate cancer and back pain") is out of date: the site ' in (
        err
    )
    assert "shows a version shipped with an earlier release" in err
    assert "It has no staff edits since it was loaded: replacing it loses nothing." in err
    assert err.count("WARNING:") == 2
    # The sheets that are exactly what this release ships now record it, silently.
    for sheet in FactSheet.objects.exclude(slug=PROSTATE):
        assert sheet.shipped_sha256 == sha256_of_shipped(sheet.slug)
    assert FactSheet.objects.get(slug=PROSTATE).shipped_sha256 == ""


def test_an_unrecorded_sheet_with_unknown_differences_is_reported_as_probably_edited(
    shipped_sheets,
):
    forget_fingerprints()
    FactSheet.objects.filter(slug="osteoporosis").update(summary="Edited by staff")

    _, err = run()

    assert 'WARNING: osteoporosis ("Osteoporosis") differs from the version shipped' in err
    assert "no record of which version it was loaded from" in err
    assert "so it has probably been edited on this site: replacing it overwrites those edits" in err
    assert err.count("WARNING:") == 2


def test_a_site_loaded_before_6dcc40c_and_before_fingerprints_is_told_replacing_is_safe(
    db, tmp_path, monkeypatch
):
    """The fingerprints kept for sites loaded before sheets recorded their own match what was
    really shipped: the sheet as it stood before 6dcc40c, kept beside this test (from
    `git show 6dcc40c^:factsheets/content/prostate-cancer-and-back-pain.json`)."""
    content = tmp_path / "content"
    shutil.copytree(SHIPPED, content)
    (content / f"{PROSTATE}.json").write_bytes(BEFORE_6DCC40C_FILE.read_bytes())
    monkeypatch.setattr(services, "CONTENT_DIR", content)
    run()
    forget_fingerprints()
    monkeypatch.setattr(services, "CONTENT_DIR", SHIPPED)

    _, err = run()

    assert BEFORE_6DCC40C in prostate_text()
    assert f"WARNING: {PROSTATE}" in err and "shipped with an earlier release" in err
    assert "It has no staff edits since it was loaded: replacing it loses nothing." in err


# --- a release that no longer ships a sheet, and a shipped sheet renamed on the site ----------

OSTEOPOROSIS = "osteoporosis"


@pytest.fixture
def release_without_osteoporosis(db, tmp_path, monkeypatch) -> None:
    """A site that loaded every shipped sheet, upgraded to a release that dropped one."""
    run()
    content = tmp_path / "content"
    shutil.copytree(SHIPPED, content)
    (content / f"{OSTEOPOROSIS}.json").unlink()
    monkeypatch.setattr(services, "CONTENT_DIR", content)


def test_a_sheet_no_longer_shipped_but_still_shown_is_reported(release_without_osteoporosis):
    out, err = run()

    assert (
        f'WARNING: {OSTEOPOROSIS} ("Osteoporosis", at /factsheets/{OSTEOPOROSIS}/) was loaded '
        f"from factsheets/content/{OSTEOPOROSIS}.json, which this release no longer ships"
    ) in err
    assert "withdraw it in admin (untick Published)" in err
    assert f"load_factsheets --keep {OSTEOPOROSIS}" in err
    with pytest.raises(
        CommandError, match=f"no longer shipped but still on the site: {OSTEOPOROSIS}"
    ):
        run("--check")
    # Nothing is taken off the site by the command: that is for someone to decide.
    assert FactSheet.objects.get(slug=OSTEOPOROSIS).published


def test_a_dropped_sheet_withdrawn_in_admin_is_not_reported_again(release_without_osteoporosis):
    sheet = FactSheet.objects.get(slug=OSTEOPOROSIS)
    sheet.published = False
    sheet.save()

    out, err = run("--check")

    assert err == ""


def test_a_dropped_sheet_kept_becomes_the_sites_own(release_without_osteoporosis):
    out, err = run("--keep", OSTEOPOROSIS)

    assert f"{OSTEOPOROSIS}: no longer shipped; kept as this site's own sheet" in out
    assert err == ""
    assert FactSheet.objects.get(slug=OSTEOPOROSIS).shipped_slug == ""
    assert run("--check")[1] == ""
    with pytest.raises(CommandError, match="No shipped fact sheet is called"):
        run("--keep", OSTEOPOROSIS)  # not shipped, and no longer loaded from a file


def test_a_renamed_out_of_date_sheet_is_named_by_its_shipped_file(site_on_previous_release):
    sheet = site_on_previous_release
    sheet.slug = "prostate-cancer"
    sheet.save()

    out, err = run()

    assert f'WARNING: {PROSTATE} ("Prostate cancer and back pain", now at /factsheets/' in err
    assert ", now at /factsheets/prostate-cancer/) is out of date" in err
    assert f"--replace {PROSTATE}" in err

    run("--replace", PROSTATE)

    replaced = FactSheet.objects.get(pk=sheet.pk)
    assert replaced.slug == "prostate-cancer"  # the site's address is kept
    assert CORRECTED_WORDS in prostate_text_of(replaced)
    assert FactSheet.objects.filter(shipped_slug=PROSTATE).count() == 1


def prostate_text_of(sheet: FactSheet) -> str:
    return " ".join(sheet.sections.values_list("body", flat=True))


def test_a_shipped_sheet_whose_address_a_renamed_sheet_holds_stops_the_load_before_writing(
    db, tmp_path, monkeypatch
):
    run()
    FactSheet.objects.filter(slug=OSTEOPOROSIS).update(slug="bone-thinning")
    content = tmp_path / "content"
    shutil.copytree(SHIPPED, content)
    # A later release ships a new sheet at the address the renamed one now has, and another.
    for slug in ["bone-thinning", "a-first-new-sheet"]:
        data = json.loads((content / f"{OSTEOPOROSIS}.json").read_text()) | {"slug": slug}
        (content / f"{slug}.json").write_text(json.dumps(data))
    monkeypatch.setattr(services, "CONTENT_DIR", content)
    sheets = FactSheet.objects.count()

    with pytest.raises(CommandError) as failed:
        run()

    assert "Nothing was changed: the shipped sheet bone-thinning cannot be loaded" in str(
        failed.value
    )
    assert f"is the shipped sheet {OSTEOPOROSIS}, renamed since" in str(failed.value)
    assert FactSheet.objects.count() == sheets  # not even the sheet before it in the list


def test_a_sheet_found_by_its_address_has_its_file_recorded(db):
    run()
    FactSheet.objects.filter(slug=OSTEOPOROSIS).update(shipped_slug="")  # as loaded before 0006

    run()

    assert FactSheet.objects.get(slug=OSTEOPOROSIS).shipped_slug == OSTEOPOROSIS
