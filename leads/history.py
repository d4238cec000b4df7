"""Keeping django-simple-history's copies right."""

from django.db import models


def load_expression_values(
    sender, *, instance: models.Model, history_instance: models.Model, **kwargs
) -> None:
    """Give the history row the value the database now holds for any field saved as an
    expression (``reports.services`` counts attempts with ``F("attempts") + 1``).

    After such a save the instance still holds the expression, and an INSERT cannot use it.
    Connected to ``pre_create_historical_record``; runs inside the saving transaction, so it
    reads the value just written.
    """
    pending = [
        field.attname
        for field in instance._meta.concrete_fields
        if hasattr(getattr(history_instance, field.attname, None), "resolve_expression")
    ]
    if not pending:
        return
    instance.refresh_from_db(fields=pending)
    for attname in pending:
        setattr(history_instance, attname, getattr(instance, attname))
