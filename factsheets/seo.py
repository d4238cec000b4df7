"""What search engines read: canonical URLs and schema.org MedicalWebPage data."""

import json

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from .models import FactSheet

# Inside <script>, "<", ">" and "&" must not appear raw (staff text could contain "</script>").
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def canonical_url(path: str) -> str:
    return settings.SITE_URL + path


def medical_web_page_jsonld(sheet: FactSheet) -> SafeString:
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": sheet.title,
        "description": sheet.summary,
        "url": canonical_url(sheet.get_absolute_url()),
        "inLanguage": "en-GB",
        "lastReviewed": sheet.last_reviewed.isoformat(),
        "audience": {"@type": "PeopleAudience", "audienceType": "Patient"},
        "publisher": {"@type": "MedicalOrganization", "name": settings.CLINIC_NAME},
        "citation": [source.title for source in sheet.sources.all()],
    }
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES))  # noqa: S308
