"""What WeasyPrint may load while it renders a report: the project's own static files, nothing else.

Patients' words reach the PDF, so the fetcher refuses every URL scheme (file:, http(s):, data:,
ftp:, …) except ``static:``, which maps to files found by Django's staticfiles finders.
"""

import logging
import mimetypes
from pathlib import Path

from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

STATIC_SCHEME = "static:"


class RefusedURL(ValueError):
    pass


class StaticOnlyURLFetcher(URLFetcher):
    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if not url.startswith(STATIC_SCHEME):
            logger.warning("Refused to fetch a non-static URL while rendering a PDF")
            raise RefusedURL("only the project's static files may be fetched")
        relative = url.removeprefix(STATIC_SCHEME).lstrip("/").split("?")[0].split("#")[0]
        if not relative or ".." in Path(relative).parts:
            raise RefusedURL("invalid static path")
        found = finders.find(relative)
        if not found:
            raise RefusedURL(f"no such static file: {relative}")
        content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, Path(found).read_bytes(), headers={"Content-Type": content_type}
        )
