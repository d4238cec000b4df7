import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from leads.privacy import erase_everything_for, person_key, subject_access_export


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
        parser.add_argument("--output", help="Write the export to this file, not the screen.")
        parser.add_argument("--reason", default="Erased at the patient's request")
        parser.add_argument(
            "--yes", action="store_true", help="Erase without asking for confirmation."
        )

    def handle(self, *args, action: str, person: str, output=None, reason: str, yes: bool, **o):
        given, person = person, person_key(person)
        if not person:
            raise CommandError(f"{given!r} is neither an email address nor a valid phone number.")
        if action == "export":
            text = json.dumps(subject_access_export(person), indent=2, cls=DjangoJSONEncoder)
            if output:
                with open(output, "w", encoding="utf-8") as handle:
                    handle.write(text)
                self.stdout.write(f"Written to {output}")
            else:
                self.stdout.write(text)
            return
        if not yes and input(f"Erase everything held for {person}? Type 'erase': ") != "erase":
            raise CommandError("Nothing erased.")
        log = erase_everything_for(person, by=None, reason=reason)
        self.stdout.write(
            f"Erased {log.report_requests} report request(s) and "
            f"{log.consultation_requests} consultation request(s)."
        )
