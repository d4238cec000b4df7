from django.core.management.base import BaseCommand, CommandError

from factsheets.services import SheetReport, UnknownSheets, update_shipped_content

COMMAND = "python manage.py load_factsheets"


class Command(BaseCommand):
    help = (
        "Load the fact sheets shipped in factsheets/content/. Safe to run again: sheets that "
        "already exist are left as they are, with a warning for each whose shipped version has "
        "changed since it was loaded; --replace SLUG updates one, --keep SLUG keeps it as it is."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--replace",
            nargs="*",
            metavar="SLUG",
            help="Overwrite the named existing sheets (with no names: every sheet) with their "
            "shipped content, staff edits included; raises their content version.",
        )
        parser.add_argument(
            "--keep",
            nargs="+",
            default=[],
            metavar="SLUG",
            help="Leave the named sheets as they are and stop warning that they differ from "
            "their shipped version, until their shipped file changes again.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with status 1 if any sheet is out of date with its shipped version "
            "(for upgrade scripts and CI). Missing sheets are still loaded.",
        )

    def handle(self, *args, replace=None, keep=(), check=False, **options) -> None:
        # --replace alone (argparse gives []) or replace=True from call_command: every sheet.
        every = replace is True or replace == []
        try:
            reports = update_shipped_content(replace=True if every else replace, keep=keep)
        except UnknownSheets as error:
            raise CommandError(f"{error} Nothing was changed.") from error
        except ValueError as error:
            raise CommandError(str(error)) from error
        out_of_date = []
        for report in reports:
            if report.out_of_date:
                out_of_date.append(report.sheet.slug)
                self.stderr.write(self.style.WARNING(self._warning(report)))
            elif options["verbosity"] >= 1:
                self.stdout.write(f"{report.sheet.slug}: {self._done(report)}")
        if not out_of_date:
            return
        summary = (
            f"{len(out_of_date)} fact sheet{'s are' if len(out_of_date) > 1 else ' is'} out of "
            f"date with the version shipped with this release: {', '.join(out_of_date)}. The "
            "site shows what it shows now until each is replaced (--replace SLUG) or kept as it "
            "is (--keep SLUG)."
        )
        if check:
            raise CommandError(summary)
        self.stderr.write(self.style.WARNING(f"WARNING: {summary}"))

    @staticmethod
    def _done(report: SheetReport) -> str:
        if report.action == "loaded":
            return "loaded"
        if report.action == "replaced":
            version = report.sheet.content_version
            done = f"replaced with the shipped version (now content version {version})"
            if report.staff_edits:
                return f"{done}; the staff edits made since it was loaded were overwritten"
            if report.staff_edits is None:
                return f"{done}; any staff edits it had were overwritten"
            return done
        if report.action == "kept":
            return (
                "kept as it is, marked as reviewed against its shipped version (warned about "
                "again only if that changes)"
            )
        if report.same_as_shipped:
            return "already present, same as its shipped version"
        return (
            "already present, left unchanged: it differs from its shipped version (staff edits, "
            "or kept with --keep), and that version has not changed since"
        )

    @staticmethod
    def _warning(report: SheetReport) -> str:
        slug, title = report.sheet.slug, report.sheet.title
        file = f"factsheets/content/{report.shipped.path.name}"
        if report.sheet.shipped_sha256:
            lines = [
                f'WARNING: {slug} ("{title}") is out of date: its shipped version ({file}) has '
                "changed since this site loaded it, and the site still shows the old version."
            ]
        elif report.earlier_version:
            lines = [
                f'WARNING: {slug} ("{title}") is out of date: the site shows a version shipped '
                f"with an earlier release, and this release ships a new one ({file})."
            ]
        else:
            lines = [
                f'WARNING: {slug} ("{title}") differs from the version shipped with this release '
                f"({file}), and the site has no record of which version it was loaded from (it was "
                "loaded before load_factsheets kept one). The differences may be wording from an "
                "earlier release, staff edits, or both."
            ]
        if report.staff_edits is False:
            lines += [
                "  It has no staff edits since it was loaded: replacing it loses nothing.",
                f"  To update it: {COMMAND} --replace {slug}",
            ]
        else:
            if report.staff_edits:
                lines.append(
                    f"  Staff have edited it since it was loaded (it is now content version "
                    f"{report.sheet.content_version}): replacing it overwrites those edits."
                )
            else:  # not known: loaded before the sheets recorded their content as loaded
                lines.append(
                    "  It is not exactly any version shipped before, so it has probably been "
                    "edited on this site: replacing it overwrites those edits."
                )
            lines += [
                f"  Compare the sheet in admin with {file}, then either take the shipped version "
                f"({COMMAND} --replace {slug}) and make again the edits that still apply, or make "
                f"the shipped changes in admin and keep the sheet ({COMMAND} --keep {slug}).",
            ]
        return "\n".join(lines)
