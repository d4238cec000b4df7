from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import FactSheet


class SiteSitemap(Sitemap):
    """Addresses on SITE_URL, as the pages' canonical links are, whatever Host the request
    for the sitemap named (any of ALLOWED_HOSTS, an IP address among them)."""

    def get_protocol(self, protocol=None) -> str:
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class FactSheetSitemap(SiteSitemap):
    changefreq = "monthly"

    def items(self):
        return FactSheet.objects.published().only("slug", "updated_at")

    def lastmod(self, sheet: FactSheet):
        return sheet.updated_at


class PagesSitemap(SiteSitemap):
    changefreq = "monthly"

    def items(self) -> list[str]:
        return ["home", "factsheets:search", "privacy"]

    def location(self, name: str) -> str:
        return reverse(name)
