from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Emailed reports"

    def ready(self) -> None:
        from leads.signals import report_requested

        from . import tasks

        report_requested.connect(tasks.enqueue_report, dispatch_uid="reports.enqueue_report")
