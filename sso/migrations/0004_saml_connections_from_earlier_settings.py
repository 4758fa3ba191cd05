"""The workspace settings' earlier "SAML details" (``workspace_settings.SSOConfiguration``, which
stored an identity provider's entity ID, single sign-on URL and certificate but signed nobody in)
become SAML connections: disabled, with no domains and the built-in Member role for new members, so
the owner finds the details on the single sign-on page and finishes the connection there. A row
missing any of the three is dropped with the table (``workspace_settings`` 0002).

Each connection made is in the activity log as "sso_connection.add", by nobody (the system)."""

import re

from django.db import migrations
from django.utils import timezone

NAME = "SAML (from earlier settings)"
PEM_ARMOUR = re.compile(r"-----(BEGIN|END) CERTIFICATE-----")


def certificate_body(pem: str) -> str:
    """The base64 body, as the SAML connections keep an identity provider's certificates."""
    return "".join(PEM_ARMOUR.sub("", pem or "").split())


def free_name(Connection, workspace_id) -> str:
    taken = set(Connection.objects.filter(workspace_id=workspace_id).values_list("name", flat=True))
    name, number = NAME, 2
    while name in taken:
        name, number = f"{NAME} {number}", number + 1
    return name


def forwards(apps, schema_editor):
    SSOConfiguration = apps.get_model("workspace_settings", "SSOConfiguration")
    Connection = apps.get_model("sso", "Connection")
    Role = apps.get_model("permissions", "Role")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    member = Role.objects.filter(builtin=True, workspace__isnull=True, scope="workspace", key="member").first()
    if member is None:  # built-in roles are made at the first migrate: no workspace can have settings yet
        return
    for config in SSOConfiguration.objects.select_related("workspace").order_by("pk"):
        entity_id, sso_url = (config.entity_id or "").strip(), (config.sso_url or "").strip()
        certificate = certificate_body(config.certificate)
        if not (entity_id and sso_url and certificate):
            continue
        now = timezone.now()
        connection = Connection.objects.create(
            workspace_id=config.workspace_id,
            name=free_name(Connection, config.workspace_id),
            kind="saml",
            issuer="",
            client_id="",
            client_secret="",
            idp_entity_id=entity_id[:500],
            idp_sso_url=sso_url[:500],
            idp_certificates=[certificate],
            default_role=member,
            enabled=False,
            updated_by_id=config.updated_by_id,
            created_at=now,
            updated_at=now,
        )
        AuditEvent.objects.create(
            workspace_id=config.workspace_id,
            workspace_name=config.workspace.name,
            actor=None,
            actor_email="",
            action="sso_connection.add",
            target_type="connection",
            target_id=str(connection.pk),
            target_repr=connection.name,
            after={
                "name": connection.name,
                "kind": "saml",
                "idp_entity_id": connection.idp_entity_id,
                "idp_sso_url": connection.idp_sso_url,
                "idp_certificates": 1,
                "domains": [],
                "default_role": member.name,
                "enabled": False,
                "from_earlier_settings": True,
            },
            created_at=now,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0003_required_sso"),
        ("workspace_settings", "0001_initial"),
        ("permissions", "0005_access_version"),
        ("audit", "0004_activity_keyset_index"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
