"""The call-back list as CSV: only what a call needs, safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from django.utils import timezone

from . import services
from .models import ConsultationRequest

COLUMNS = [
    "ID",
    "Name",
    "Phone",
    "Email",
    "Preferred contact",
    "Best time",
    "Self-check urgency",
    "Shown to the patient",
    "Reply due",
    "Status",
    "Assigned to",
]

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def spreadsheet_safe(value: str) -> str:
    """Defuse CSV injection: a leading quote makes the spreadsheet treat the cell as text."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def staff_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def row_for(consultation: ConsultationRequest) -> list[str]:
    due = timezone.localtime(consultation.due_at).strftime("%Y-%m-%d %H:%M")
    return [
        str(consultation.pk),
        consultation.name,
        consultation.phone_for_staff,
        consultation.email,
        consultation.get_contact_method_display(),
        consultation.best_time,
        consultation.get_urgency_display(),
        # "Urgent" covers "today" and "straight away": the caller needs to know which was said.
        services.shown_to_patient(consultation),
        due,
        consultation.get_status_display(),
        staff_name(consultation.assigned_to),
    ]


def write_csv(consultations: Iterable[ConsultationRequest], out: Writable) -> None:
    # A byte-order mark so Excel reads names with accents as UTF-8.
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for consultation in consultations:
        writer.writerow([spreadsheet_safe(cell) for cell in row_for(consultation)])


def filename(now: datetime | None = None) -> str:
    return f"call-backs-{timezone.localtime(now):%Y-%m-%d-%H%M}.csv"
