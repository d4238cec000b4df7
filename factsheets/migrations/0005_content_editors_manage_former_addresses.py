"""Content editors see a sheet's former web addresses, and may let one go (delete it)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_EDITOR = "Content editor"
CODENAMES = ["view_formerslug", "delete_formerslug"]


def _editor_groups_and_permissions(apps):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="factsheets", codename__in=CODENAMES
    )
    return Group.objects.filter(name=CONTENT_EDITOR), permissions


def grant(apps, schema_editor) -> None:
    # As in leads/migrations/0004_staff_roles.py: on a fresh database the permissions are
    # only made after all migrations run, so make them now (idempotent).
    app_config = apps.get_app_config("factsheets")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    groups, permissions = _editor_groups_and_permissions(apps)
    for group in groups:
        group.permissions.add(*permissions)


def revoke(apps, schema_editor) -> None:
    groups, permissions = _editor_groups_and_permissions(apps)
    for group in groups:
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("factsheets", "0004_withdrawn_sheets_and_former_addresses"),
        ("leads", "0004_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
