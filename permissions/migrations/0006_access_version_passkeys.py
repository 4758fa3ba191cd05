"""Passkeys count as a second factor in ``holds_under_two_factor``: adding, confirming or removing
one changes check answers, so its table gets the access-version triggers too
(``permissions.access_version``). The triggers are dropped and made again, all of them."""

from django.db import migrations

from permissions.access_version import TABLES_0005, TABLES_0006, trigger_sql


def remake(tables):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in trigger_sql(vendor)[1] + trigger_sql(vendor, tables)[0]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0005_access_version"),
        ("django_otp_webauthn", "0004_webauthnuserhandle"),
    ]

    # Its own tables, not the module's current list: a later migration adds tables it may not have yet.
    operations = [migrations.RunPython(remake(TABLES_0006), remake(TABLES_0005))]
