"""A consultation request's history as short lines staff can read on its change page."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from ..exports import staff_name
from ..models import ConsultationRequest


@dataclass(frozen=True)
class ChangeSummary:
    when: datetime
    who: str
    what: str


def change_summaries(consultation: ConsultationRequest, *, limit: int = 20) -> list[ChangeSummary]:
    """The newest ``limit`` history entries: who, when, why and which fields changed."""
    # One older entry than shown, so the oldest shown can be compared with its predecessor.
    records = list(
        consultation.history.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )[: limit + 1]
    )
    user_ids = {r.assigned_to_id for r in records if r.assigned_to_id}
    users = {u.pk: staff_name(u) for u in get_user_model().objects.filter(pk__in=user_ids)}
    summaries = []
    for newer, older in zip(records[:limit], [*records[1:], None], strict=False):
        if newer.history_type == "+":
            what = "Received"
        else:
            what = newer.history_change_reason or "Changed"
            if older is not None:
                details = [
                    _describe(change.field, change.old, change.new, users)
                    for change in newer.diff_against(older).changes
                ]
                if details:
                    what = f"{what} ({'; '.join(details)})"
        if newer.history_user:
            who = staff_name(newer.history_user)
        else:
            who = "website" if newer.history_type == "+" else "system"
        summaries.append(ChangeSummary(when=newer.history_date, who=who, what=what))
    return summaries


def _describe(field_name: str, old, new, users: dict[int, str]) -> str:
    field = ConsultationRequest._meta.get_field(field_name)
    return f"{field.verbose_name}: {_show(field, old, users)} → {_show(field, new, users)}"


def _show(field, value, users: dict[int, str]) -> str:
    if value in (None, ""):
        return "—"
    if field.name == "assigned_to":
        return users.get(value, f"user #{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%-d %b %H:%M")
    return str(value)
