from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    """Django's admin, with our site class (two-factor login when REQUIRE_STAFF_2FA is on)."""

    default_site = "config.admin.ClinicAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.core import checks

        from .admin import staff_two_factor

        checks.register(staff_two_factor, checks.Tags.security, deploy=True)
