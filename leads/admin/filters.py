"""The call-back queue's own filters: open, mine / unassigned, overdue / due today."""

from django.contrib import admin

from ..models import ConsultationStatus


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "Open (new or contacted)"), *ConsultationStatus.choices]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.open()
        if self.value() in ConsultationStatus.values:
            return queryset.filter(status=self.value())
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "Mine"), ("none", "Unassigned")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.mine(request.user)
        if self.value() == "none":
            return queryset.unassigned()
        return queryset


class PromiseFilter(admin.SimpleListFilter):
    title = "reply promise"
    parameter_name = "promise"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("today", "Due today")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.overdue()
        if self.value() == "today":
            return queryset.due_today()
        return queryset
