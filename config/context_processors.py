from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "canonical_url": settings.SITE_URL + request.path,
    }
