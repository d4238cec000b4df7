from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from factsheets import views as factsheet_views

admin.site.site_header = "Spinal Clinic: staff"
admin.site.site_title = "Spinal Clinic staff"

urlpatterns = [
    path("", factsheet_views.home, name="home"),
    path("", include("factsheets.urls")),
    path("", include("leads.urls")),
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path("admin/", admin.site.urls),
]
