from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class FactsheetsConfig(AppConfig):
    name = "factsheets"
    verbose_name = "Fact sheets"

    def ready(self) -> None:
        from . import models
        from .cache import content_changed

        for model in (
            models.FactSheet,
            models.RedFlag,
            models.Section,
            models.SheetTable,
            models.RelatedSheet,
            models.Source,
        ):
            for signal in (post_save, post_delete):
                signal.connect(
                    content_changed,
                    sender=model,
                    dispatch_uid=f"factsheets.content_changed.{signal}.{model.__name__}",
                )
