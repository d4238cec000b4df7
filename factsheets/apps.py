from django.apps import AppConfig


class FactsheetsConfig(AppConfig):
    name = "factsheets"
    verbose_name = "Fact sheets"
