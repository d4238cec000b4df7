from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from config import views as config_views
from factsheets import views as factsheet_views
from factsheets.sitemaps import FactSheetSitemap, PagesSitemap

urlpatterns = [
    path("", factsheet_views.home, name="home"),
    path("", include("factsheets.urls")),
    path("", include("leads.urls")),
    path("privacy/", config_views.privacy, name="privacy"),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": {"pages": PagesSitemap, "factsheets": FactSheetSitemap}},
        name="sitemap",
    ),
    path("robots.txt", factsheet_views.robots_txt, name="robots_txt"),
    path("healthz", config_views.healthz, name="healthz"),
    path("healthz/services", config_views.healthz_services, name="healthz_services"),
    path("admin/", admin.site.urls),
]
