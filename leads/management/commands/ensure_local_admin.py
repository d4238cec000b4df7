import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "For local use only (DEBUG on): make a superuser 'admin' with a random password, "
        "written to var/admin-login.txt, unless a superuser already exists."
    )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "Refusing to make a local admin with DEBUG off; use createsuperuser instead."
            )
        login_file = settings.VAR_DIR / "admin-login.txt"
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            where = f"see {login_file}" if login_file.exists() else "use your own login"
            self.stdout.write(f"A superuser already exists ({where}).")
            return
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", "admin@localhost", password)
        login_file.parent.mkdir(parents=True, exist_ok=True)
        login_file.write_text(f"user: admin\npassword: {password}\n")
        login_file.chmod(0o600)
        self.stdout.write(f"Made superuser 'admin'; its password is in {login_file}")
