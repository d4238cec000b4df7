from django.urls import path

from . import views

app_name = "factsheets"

urlpatterns = [
    path("factsheets/<slug:slug>/", views.detail, name="detail"),
    path("search/", views.search, name="search"),
]
