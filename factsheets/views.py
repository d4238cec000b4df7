from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from .models import FactSheet
from .selectors import get_published_sheet, sheet_context
from .seo import canonical_url, medical_web_page_jsonld

MAX_QUERY_LENGTH = 200


def home(request: HttpRequest) -> HttpResponse:
    sheets = FactSheet.objects.published().only("title", "slug", "summary", "banner_level")
    return render(request, "factsheets/home.html", {"sheets": sheets})


def detail(request: HttpRequest, slug: str) -> HttpResponse:
    sheet = get_published_sheet(slug)
    context = sheet_context(sheet) | {"jsonld": medical_web_page_jsonld(sheet)}
    return render(request, "factsheets/detail.html", context)


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
    results = (
        FactSheet.objects.published().search(query).only("title", "slug", "summary")
        if query
        else FactSheet.objects.none()
    )
    context = {"query": query, "results": results}
    if query and not results:
        context["all_sheets"] = FactSheet.objects.published().only("title", "slug")
    return render(request, "factsheets/search.html", context)


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        f"Sitemap: {canonical_url(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
