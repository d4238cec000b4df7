from django import template

from leads.forms import ConsultationRequestForm, ReportRequestForm

register = template.Library()


@register.inclusion_tag("leads/_forms.html", takes_context=True)
def lead_forms(context: template.Context, sheet) -> dict:
    """The two forms under a sheet: bound ones when a view re-shows errors, else blank ones."""
    return {
        "sheet": sheet,
        "report_form": context.get("report_form") or ReportRequestForm(sheet=sheet),
        "consultation_form": (
            context.get("consultation_form") or ConsultationRequestForm(sheet=sheet)
        ),
        "request": context.get("request"),
        # The hint under the report form points to the page's 999 list, named by its heading
        # (not by its colour or place) and only when there is one.
        "has_emergency_signs": bool(context.get("emergency_flags")),
    }
