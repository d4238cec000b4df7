"""The admin site, with two-factor login for staff when REQUIRE_STAFF_2FA is on (django-otp)."""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


class ClinicAdminSite(AdminSite):
    site_header = "Spinal Clinic: staff"
    site_title = "Spinal Clinic staff"
    index_title = "Patient requests and fact sheets"

    # Read at request time, so the setting can be switched without code changes (and tested).
    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if settings.REQUIRE_STAFF_2FA else None

    @property
    def login_template(self):
        return OTPAdminSite.login_template if settings.REQUIRE_STAFF_2FA else None

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.REQUIRE_STAFF_2FA or request.user.is_verified()


def staff_two_factor(app_configs=None, **kwargs) -> list:
    """Deploy check (`manage.py check --deploy`, registered in config/apps.py): admin holds
    patients' names, contact details and health answers, and sits on the public internet."""
    from django.core import checks

    if settings.DEBUG or settings.REQUIRE_STAFF_2FA:
        return []
    return [
        checks.Warning(
            "Staff sign in to admin with a password alone, and admin holds patients' details.",
            hint="Give each member of staff a TOTP device in admin, then set "
            "REQUIRE_STAFF_2FA=true (README, Staff accounts and triage).",
            id="clinic.W002",
        )
    ]
