from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import FactSheet


class FactSheetSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return FactSheet.objects.published().only("slug", "updated_at")

    def lastmod(self, sheet: FactSheet):
        return sheet.updated_at


class PagesSitemap(Sitemap):
    changefreq = "monthly"

    def items(self) -> list[str]:
        return ["home", "factsheets:search", "privacy"]

    def location(self, name: str) -> str:
        return reverse(name)
