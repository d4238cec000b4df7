"""The two staff roles, with least privilege.

Triage staff work the consultation and report requests; content editors work the fact sheets.
Neither sees users, groups or the other's area. A superuser assigns people to the groups.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TRIAGE_STAFF = "Triage staff"
CONTENT_EDITOR = "Content editor"

ROLE_PERMISSIONS = {
    TRIAGE_STAFF: {
        "leads": [
            "view_consultationrequest",
            "change_consultationrequest",
            "export_consultationrequest",
            # Attempts and notes are append-only in admin (a correction is a new note), so
            # triage staff can add and read them but not rewrite the log.
            "add_contactattempt",
            "view_contactattempt",
            "add_internalnote",
            "view_internalnote",
            "view_reportrequest",
            "resend_reportrequest",
        ],
    },
    CONTENT_EDITOR: {
        "factsheets": [
            "add_factsheet",
            "change_factsheet",
            "view_factsheet",
            # Editing a sheet includes removing a red flag, section, table, link or source,
            # so the child rows may be deleted; a whole sheet may not.
            *(
                f"{action}_{model}"
                for model in ("redflag", "section", "sheettable", "relatedsheet", "source")
                for action in ("add", "change", "delete", "view")
            ),
        ],
    },
}


def create_roles(apps, schema_editor) -> None:
    # Permissions are normally made after all migrations run; on a fresh database they do
    # not exist yet, so make them now (this is idempotent).
    for label in ("leads", "factsheets"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, by_app in ROLE_PERMISSIONS.items():
        wanted = [(app, codename) for app, codenames in by_app.items() for codename in codenames]
        permissions = list(
            Permission.objects.filter(
                content_type__app_label__in=by_app, codename__in=[c for _, c in wanted]
            )
        )
        found = {(p.content_type.app_label, p.codename) for p in permissions}
        missing = sorted(set(wanted) - found)
        if missing:
            raise RuntimeError(f"Permissions missing for the {role!r} group: {missing}")
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("factsheets", "0002_factsheet_asks_cancer_history_factsheet_questions_and_more"),
        ("leads", "0003_triage"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
