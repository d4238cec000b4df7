from django.core.management.base import BaseCommand, CommandError

from factsheets.services import (
    SheetReport,
    UnknownSheets,
    no_longer_shipped,
    update_shipped_content,
)

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
            "their shipped version, until their shipped file changes again. For a sheet no "
            "longer shipped: keep it as this site's own and stop warning about it.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with status 1 if any sheet is out of date with its shipped version, or "
            "still shown though no longer shipped (for upgrade scripts and CI). Missing sheets "
            "are still loaded.",
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
                out_of_date.append(report.shipped.slug)
                self.stderr.write(self.style.WARNING(self._warning(report)))
            elif options["verbosity"] >= 1:
                self.stdout.write(f"{report.shipped.slug}: {self._done(report)}")
        shipped = {report.shipped.slug for report in reports}
        for slug in sorted(set(keep) - shipped):
            if options["verbosity"] >= 1:
                self.stdout.write(f"{slug}: no longer shipped; kept as this site's own sheet")
        dropped = no_longer_shipped(shipped)
        for sheet in dropped:
            self.stderr.write(self.style.WARNING(self._dropped_warning(sheet)))
        if not out_of_date and not dropped:
            return
        parts = []
        if out_of_date:
            parts.append(
                f"{len(out_of_date)} fact sheet{'s are' if len(out_of_date) > 1 else ' is'} out "
                f"of date with the version shipped with this release: {', '.join(out_of_date)}. "
                "The site shows what it shows now until each is replaced (--replace SLUG) or kept "
                "as it is (--keep SLUG)."
            )
        if dropped:
            names = ", ".join(sheet.shipped_slug for sheet in dropped)
            parts.append(
                f"{len(dropped)} fact sheet{'s are' if len(dropped) > 1 else ' is'} no longer "
                f"shipped but still on the site: {names}. Withdraw each in admin (untick "
                "Published) or keep it as the site's own (--keep SLUG)."
            )
        summary = " ".join(parts)
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
            if report.sheet.withdrawn:
                done += "; it stays withdrawn until it is published again in admin"
            elif not report.sheet.published:
                done += "; it stays unpublished (a draft) until it is published in admin"
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
    def _dropped_warning(sheet) -> str:
        slug = sheet.shipped_slug
        return "\n".join(
            [
                f'WARNING: {slug} ("{sheet.title}", at {sheet.get_absolute_url()}) was loaded '
                f"from factsheets/content/{slug}.json, which this release no longer ships, and "
                "the site still shows it.",
                "  It may have been dropped because it is wrong or out of date. Either withdraw "
                "it in admin (untick Published), or keep it as this site's own sheet, no longer "
                f"compared with any shipped file: {COMMAND} --keep {slug}",
            ]
        )

    @staticmethod
    def _warning(report: SheetReport) -> str:
        slug = report.shipped.slug
        name = f'{slug} ("{report.sheet.title}"'
        if report.sheet.slug != slug:  # renamed on this site
            name += f", now at {report.sheet.get_absolute_url()}"
        name += ")"
        file = f"factsheets/content/{report.shipped.path.name}"
        if report.sheet.shipped_sha256:
            lines = [
                f"WARNING: {name} is out of date: its shipped version ({file}) has "
                "changed since this site loaded it, and the site still shows the old version."
            ]
        elif report.earlier_version:
            lines = [
                f"WARNING: {name} is out of date: the site shows a version shipped "
                f"with an earlier release, and this release ships a new one ({file})."
            ]
        else:
            lines = [
                f"WARNING: {name} differs from the version shipped with this release "
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
