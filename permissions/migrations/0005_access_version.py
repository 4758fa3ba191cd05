"""The access version table and the triggers that change it (``permissions.access_version``)."""

from django.db import migrations, models

from permissions.access_version import TABLES_0005, trigger_sql


def create_triggers(apps, schema_editor):
    for statement in trigger_sql(schema_editor.connection.vendor, TABLES_0005)[0]:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in trigger_sql(schema_editor.connection.vendor, TABLES_0005)[1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0004_access_key_scopes_and_expiry"),
        ("accounts", "0008_email_sort_index"),
        ("workspaces", "0006_site_data_reset_at"),
        ("twofactor", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessVersion",
            fields=[
                ("workspace_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
