"""Triage in Django admin: the call-back queue, the workflow, history, export and dashboard.

Every write goes through ``leads.services``; these modules only turn staff clicks into calls
and the services' refusals (``TriageError``) into messages. Importing the package registers
the model admins (Django's autodiscovery imports ``leads.admin``).
"""

from .consultations import ConsultationRequestAdmin
from .privacy import PrivacyLogAdmin
from .reports import ExportLogAdmin, ReportRequestAdmin

__all__ = ["ConsultationRequestAdmin", "ExportLogAdmin", "PrivacyLogAdmin", "ReportRequestAdmin"]
