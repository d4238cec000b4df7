from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("factsheets/<slug:slug>/report/", views.request_report, name="request_report"),
    path("factsheets/<slug:slug>/report/sent/", views.report_sent, name="report_sent"),
    path(
        "factsheets/<slug:slug>/consultation/",
        views.request_consultation,
        name="request_consultation",
    ),
    path(
        "factsheets/<slug:slug>/consultation/sent/",
        views.consultation_sent,
        name="consultation_sent",
    ),
]
