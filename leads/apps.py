from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Patient requests"

    def ready(self) -> None:
        from . import signals, tasks

        signals.consultation_request_created.connect(
            tasks.enqueue_clinic_notification, dispatch_uid="leads.enqueue_clinic_notification"
        )
