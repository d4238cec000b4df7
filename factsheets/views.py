from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import FactSheet
from .selectors import get_published_sheet, sheet_context


def home(request: HttpRequest) -> HttpResponse:
    sheets = FactSheet.objects.published().only("title", "slug", "summary", "banner_level")
    return render(request, "factsheets/home.html", {"sheets": sheets})


def detail(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    return render(request, "factsheets/detail.html", sheet_context(sheet))
