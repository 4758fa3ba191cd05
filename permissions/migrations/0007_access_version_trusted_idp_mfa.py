"""The access version's triggers again, now also on the tables that say who is at a domain of a
connection trusting its identity provider's multi-factor sign-in (``permissions.access_version``).
The triggers are dropped and made again, all of them."""

from django.db import migrations

from permissions.access_version import TABLES_0006, trigger_sql


def remake(tables):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in trigger_sql(vendor)[1] + trigger_sql(vendor, tables)[0]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0006_access_version_passkeys"),
        ("sso", "0005_trust_idp_mfa"),
    ]

    operations = [migrations.RunPython(remake(None), remake(TABLES_0006))]
