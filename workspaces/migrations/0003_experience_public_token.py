# The public address of a published experience uses an unguessable token instead of its sequential id.
# Added nullable, filled row by row with a fresh token, then made unique and required.

import secrets

from django.db import migrations, models

import workspaces.models


def fill_tokens(apps, schema_editor):
    Experience = apps.get_model("workspaces", "Experience")
    for experience in Experience.objects.filter(public_token__isnull=True).only("pk").iterator():
        Experience.objects.filter(pk=experience.pk).update(public_token=secrets.token_urlsafe(32))


class Migration(migrations.Migration):

    dependencies = [
        ("workspaces", "0002_viewerlink"),
    ]

    operations = [
        migrations.AddField(
            model_name="experience",
            name="public_token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="experience",
            name="public_token",
            field=models.CharField(
                default=workspaces.models.new_public_token, editable=False, max_length=64, unique=True
            ),
        ),
    ]
