from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET

from .cache import CACHE_CONTROL, cached_page
from .models import FactSheet
from .selectors import get_published_sheet, moved_or_withdrawn, sheet_context
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

    try:
        return cached_page(f"sheet:{slug}", render_sheet, request)
    except Http404:
        sheet = moved_or_withdrawn(slug)  # or the 404 again
    if sheet.published:  # renamed: links and bookmarks to the old address still work
        response = redirect(sheet.get_absolute_url(), permanent=True)
    else:
        response = withdrawn_page(request, sheet, status=410)
    # Kept no longer than a page, so that publishing it again (or renaming it back) shows.
    response["Cache-Control"] = CACHE_CONTROL
    return response


def withdrawn_page(
    request: HttpRequest, sheet: FactSheet, *, status: int = 200, **context
) -> HttpResponse:
    """A sheet taken off the site: says so, shows none of its content, and points on.

    The lead views show it too, for what is posted from copies of the page still open
    (``outcome``, a bound consultation ``form``, ``report_refused``, ``report_unsent``).
    """
    return render(request, "factsheets/withdrawn.html", {"sheet": sheet} | context, status=status)


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
