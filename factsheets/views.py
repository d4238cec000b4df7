from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET

from .cache import cached_page
from .models import FactSheet
from .selectors import get_published_sheet, sheet_context
from .seo import canonical_url, medical_web_page_jsonld

MAX_QUERY_LENGTH = 200


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    def render_home():
        sheets = FactSheet.objects.published().only("title", "slug", "summary", "banner_level")
        html = render_to_string("factsheets/home.html", {"sheets": sheets}, request=request)
        return html, FactSheet.objects.published().aggregate(latest=Max("updated_at"))["latest"]

    return cached_page("home", render_home, request)


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    def render_sheet():
        sheet = get_published_sheet(slug)  # a 404 is raised here and never cached
        context = sheet_context(sheet) | {"jsonld": medical_web_page_jsonld(sheet)}
        return render_to_string(
            "factsheets/detail.html", context, request=request
        ), sheet.updated_at

    return cached_page(f"sheet:{slug}", render_sheet, request)


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
