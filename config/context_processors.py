from django.conf import settings
from django.http import HttpRequest

from .contact import clinic_contact


def site(request: HttpRequest) -> dict:
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "clinic_contact": clinic_contact(),
        "canonical_url": settings.SITE_URL + request.path,
        # The same for every visitor (pages are cached): for whole addresses on printed pages.
        "site_url": settings.SITE_URL,
    }
