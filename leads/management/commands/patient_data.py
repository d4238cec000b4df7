import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from config.files import new_private_file
from leads.privacy import (
    erase_everything_for,
    others_with_this_number,
    person_key,
    subject_access_export,
)


class Command(BaseCommand):
    help = (
        "UK GDPR requests by email address (or, for someone who gave none, phone number): "
        "'export' prints everything held about the person "
        "(subject access) as JSON; 'erase' blanks it everywhere, history included. Both leave "
        "an audit entry that holds no personal data."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("person", help="Their email address, or their phone number.")
        parser.add_argument(
            "--output",
            help="Write the export to this new file (readable by its owner only), not the "
            "screen. An existing file is never overwritten.",
        )
        parser.add_argument("--reason", default="Erased at the patient's request")
        parser.add_argument(
            "--yes", action="store_true", help="Erase without asking for confirmation."
        )

    def handle(self, *args, action: str, person: str, output=None, reason: str, yes: bool, **o):
        given, person = person, person_key(person)
        if not person:
            raise CommandError(f"{given!r} is neither an email address nor a valid phone number.")
        if action == "export":
            self._export(person, output)
        else:
            self._erase(person, reason, yes)
        self._mention_others_with_the_number(person)

    def _export(self, person: str, output: str | None) -> None:
        if output is None:
            text = json.dumps(subject_access_export(person), indent=2, cls=DjangoJSONEncoder)
            self.stdout.write(text)
            return
        # Made before the export runs, so a name that cannot be used stops it; made new, for
        # its owner only, as it holds health details. The export's audit entry is kept only
        # if the file was written whole, and a file not written whole is removed.
        try:
            with transaction.atomic(), new_private_file(output, "w", encoding="utf-8") as handle:
                handle.write(
                    json.dumps(subject_access_export(person), indent=2, cls=DjangoJSONEncoder)
                )
        except FileExistsError:
            raise CommandError(
                f"{output} already exists, so nothing was exported. Choose a new file name."
            ) from None
        except OSError as error:
            raise CommandError(
                f"Cannot write {output} ({error.strerror}), so nothing was exported."
            ) from None
        self.stdout.write(f"Written to {output}")

    def _erase(self, person: str, reason: str, yes: bool) -> None:
        if not yes:
            try:
                answer = input(f"Erase everything held for {person}? Type 'erase': ")
            except EOFError:  # no terminal to answer from, e.g. run from a script
                answer = ""
            if answer != "erase":
                raise CommandError("Nothing erased. (To erase without being asked, add --yes.)")
        log = erase_everything_for(person, by=None, reason=reason)
        self.stdout.write(
            f"Erased {log.report_requests} report request(s) and "
            f"{log.consultation_requests} consultation request(s)."
        )

    def _mention_others_with_the_number(self, person: str) -> None:
        others = others_with_this_number(person)
        if others:
            numbers = ", ".join(f"#{pk}" for pk in others)
            self.stderr.write(
                f"Not included: consultation request(s) {numbers} give this phone number "
                "together with an email address, so they belong to whoever that address "
                "names. If that is this person, run this again with the email address."
            )
