from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Patient requests"

    def ready(self) -> None:
        from django.core import checks
        from simple_history.signals import pre_create_historical_record

        from config.contact import contact_is_set

        from . import history, signals, tasks
        from .models import ConsultationRequest, ReportRequest

        checks.register(contact_is_set)
        signals.consultation_request_created.connect(
            tasks.enqueue_clinic_notification, dispatch_uid="leads.enqueue_clinic_notification"
        )
        for model in (ConsultationRequest, ReportRequest):
            pre_create_historical_record.connect(
                history.load_expression_values,
                sender=model.history.model,
                dispatch_uid=f"leads.history_expressions.{model.__name__}",
            )
