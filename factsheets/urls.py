from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "factsheets"

urlpatterns = [
    # Every sheet's address starts with this one, so a reader may try it: the list is on home.
    path("factsheets/", RedirectView.as_view(pattern_name="home"), name="list"),
    path("factsheets/<slug:slug>/", views.detail, name="detail"),
    path("search/", views.search, name="search"),
]
