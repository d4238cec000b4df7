"""Pages of their own under the consultation admin: the CSV export and the dashboard."""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import IGNORED_PARAMS, ORDER_VAR, SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    QueryDict,
)
from django.template.response import TemplateResponse
from django.urls import path

from .. import dashboard, exports, services


def _filters_for_log(query: QueryDict, changelist: ChangeList) -> str:
    """The list's filters as the export log keeps them (for good, even after a request is
    erased). Only the values of the list's own filters (status, urgency, sheet, dates) and
    its order are kept. Anything else could be a patient's details: a search term is kept
    only as the fact that there was a search, and a lookup typed into the address by hand
    (``?email=…``, ``?description__icontains=…``) only by its name."""
    own = {ORDER_VAR}
    own.update(name for spec in changelist.filter_specs for name in spec.expected_parameters())
    if field := changelist.date_hierarchy:
        own.update(f"{field}__{part}" for part in ("year", "month", "day"))
    kept, typed = QueryDict(mutable=True), set()
    for name, values in query.lists():
        if name in own:
            kept.setlist(name, values)
        elif name not in IGNORED_PARAMS:  # admin's own ("Show counts", …) and the search
            typed.add(name)
    searched = any(term.strip() for term in query.getlist(SEARCH_VAR))
    return " ".join(
        filter(
            None,
            [
                kept.urlencode(),
                f"and filters typed by hand ({', '.join(sorted(typed))})" if typed else "",
                "and a search" if searched else "",
            ],
        )
    )


class TriagePagesMixin:
    """The export and dashboard URLs under the consultation admin, staff only."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name=f"{info[0]}_{info[1]}_export",
            ),
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="leads_dashboard",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The list as filtered and searched on screen (the button posts the query string)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Those filters are not valid.")
        return self._csv_response(
            request,
            changelist.get_queryset(request),
            filters=_filters_for_log(request.GET, changelist),
        )

    def _csv_response(self, request: HttpRequest, queryset: QuerySet, filters: str):
        consultations = list(queryset.select_related("assigned_to"))
        # Logged before the file is built: an export that happened is never missing.
        services.record_export(requests=consultations, by=request.user, filters=filters)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{exports.filename()}"'
        response["Cache-Control"] = "no-store"
        exports.write_csv(consultations, response)
        return response

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        weeks = dashboard.parse_weeks(request.GET.get("weeks"))
        return TemplateResponse(
            request,
            "admin/leads/dashboard.html",
            {
                **self.admin_site.each_context(request),
                "title": "Triage dashboard",
                "opts": self.opts,
                "dashboard": dashboard.build(weeks=weeks),
                "week_choices": dashboard.WEEK_CHOICES,
            },
        )
