from django.core.management.base import BaseCommand

from factsheets.services import load_shipped_content


class Command(BaseCommand):
    help = (
        "Load the fact sheets shipped in factsheets/content/. Safe to run again: sheets that "
        "already exist are left as staff edited them unless --replace is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Overwrite existing sheets with the shipped content (raises their version).",
        )

    def handle(self, *args, replace: bool = False, **options) -> None:
        for sheet, written in load_shipped_content(replace=replace):
            verb = "loaded" if written else "already present, left unchanged"
            self.stdout.write(f"{sheet.slug}: {verb}")
