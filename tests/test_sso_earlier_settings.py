"""The single sign-on page at /w/<slug>/settings/sso/ is the connections page. The earlier
"SAML details" settings (stored, never used to sign anyone in) are gone: the migration turned each
complete row into a disabled SAML connection the owner finishes there, and past events of those
settings still read in the activity log."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import NoReverseMatch, reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from sso.models import Connection
from sso.saml_services import saml_connection_add
from tests.factories import UserFactory, make_workspace
from tests.settings_factories import CERTIFICATE
from tests.test_sso_saml_connections import metadata
from workspaces.joining.services import join_domain_add

BEFORE = [("sso", "0003_required_sso"), ("workspace_settings", "0001_initial")]
AFTER = [("sso", "0004_saml_connections_from_earlier_settings"), ("workspace_settings", "0002_remove_saml_details")]
BODY = "".join(CERTIFICATE.replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", "").split())


@pytest.mark.django_db(transaction=True)
def test_complete_earlier_saml_details_become_a_disabled_connection_and_the_rest_are_dropped():
    executor = MigrationExecutor(db_connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Role, Config = old.get_model("permissions", "Role"), old.get_model("workspace_settings", "SSOConfiguration")
        Role.objects.get_or_create(
            builtin=True, workspace=None, scope="workspace", key="member", defaults={"name": "Member"}
        )
        # Accounts and workspaces are made by today's code: only sso and workspace_settings went back.
        olivia = UserFactory(email="olivia@acme.test")
        acme, globex, initech = (make_workspace(olivia, name) for name in ("Acme", "Globex", "Initech"))
        fields = {"entity_id": "https://idp.acme.test/saml", "sso_url": "https://idp.acme.test/sso"}
        Config.objects.create(
            workspace_id=acme.pk, certificate=CERTIFICATE, fingerprint="F0", updated_by_id=olivia.pk, **fields
        )
        Config.objects.create(workspace_id=globex.pk, certificate="", fingerprint="", **fields)  # no certificate
        Config.objects.create(
            workspace_id=initech.pk, certificate=CERTIFICATE, fingerprint="F0", entity_id="", sso_url="x"
        )
        executor = MigrationExecutor(db_connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        (made,) = new.get_model("sso", "Connection").objects.all()
        assert made.workspace_id == acme.pk and made.name == "SAML (from earlier settings)"
        assert made.kind == "saml" and made.enabled is False and not made.domains.exists()
        assert (made.idp_entity_id, made.idp_sso_url) == (fields["entity_id"], fields["sso_url"])
        assert made.idp_certificates == [BODY] and made.updated_by_id == olivia.pk
        assert made.default_role.key == "member" and made.default_role.builtin
        assert made.client_secret == "" and made.issuer == ""
        (event,) = new.get_model("audit", "AuditEvent").objects.filter(action="sso_connection.add")
        assert event.workspace_id == acme.pk and event.actor_id is None and event.target_id == str(made.pk)
        assert event.after["enabled"] is False and event.after["from_earlier_settings"] is True
        assert "workspace_settings_ssoconfiguration" not in db_connection.introspection.table_names()
    finally:
        MigrationExecutor(db_connection).migrate(MigrationExecutor(db_connection).loader.graph.leaf_nodes())


def test_the_single_sign_on_page_is_the_connections_page(client, workspace, owner):
    client.force_login(owner)
    url = reverse("sso:index", args=[workspace.slug])
    assert url == f"/w/{workspace.slug}/settings/sso/"
    page = client.get(url).content.decode()
    assert "Connections: OpenID Connect and SAML 2.0" in page and "Required single sign-on" in page
    assert "does not itself sign people in" not in page and "SAML details" not in page
    assert client.post(url, {"entity_id": "x"}).status_code == 405  # nothing is stored here any more
    assert client.get(f"/w/{workspace.slug}/settings/sso/remove/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("settings:sso", args=[workspace.slug])


def test_the_connections_page_lists_a_migrated_connection_for_the_owner_to_finish(client, workspace, owner):
    # As the migration makes it: no domains yet, disabled (the services ask for a domain).
    Connection.objects.create(
        workspace=workspace,
        name="SAML (from earlier settings)",
        kind=Connection.Kind.SAML,
        idp_entity_id="https://idp.acme.test/saml",
        idp_sso_url="https://idp.acme.test/sso",
        idp_certificates=[BODY],
        default_role=builtin_role(catalog.MEMBER),
        enabled=False,
    )
    client.force_login(owner)
    page = client.get(reverse("sso:index", args=[workspace.slug])).content.decode()
    assert "SAML (from earlier settings)" in page and "Disabled" in page


@pytest.mark.parametrize("size", [1, 6])
def test_the_page_costs_the_same_with_more_connections(client, db, django_assert_num_queries, size):
    owner = UserFactory(email="olivia@acme.test")
    workspace = make_workspace(owner, "Acme")
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    saml_connection_add(
        actor=None,
        workspace=workspace,
        name="IdP",
        metadata_xml=metadata(),
        domains=[domain],  # a domain signs in through one connection: the others are unfinished
        default_role=builtin_role(catalog.MEMBER),
    )
    for n in range(size - 1):
        Connection.objects.create(
            workspace=workspace,
            name=f"IdP {n}",
            kind=Connection.Kind.SAML,
            idp_entity_id=f"https://idp{n}.acme.test/saml",
            idp_sso_url="https://idp.acme.test/sso",
            idp_certificates=[BODY],
            default_role=builtin_role(catalog.MEMBER),
            enabled=False,
        )
    client.force_login(owner)
    # session, user, membership with its workspace, workspace permissions; connections, their
    # domains, whether single sign-on is required
    with django_assert_num_queries(7):
        assert client.get(reverse("sso:index", args=[workspace.slug])).status_code == 200


def test_past_events_of_the_earlier_settings_still_read_in_the_activity_log(client, workspace, owner):
    for action, state in (("sso.update", "after"), ("sso.remove", "before")):
        AuditEvent.objects.create(
            workspace=workspace,
            workspace_name=workspace.name,
            actor=owner,
            actor_email=owner.email,
            action=action,
            target_type="ssoconfiguration",
            target_id="7",
            target_repr="SAML: https://idp.acme.test/saml",
            **{state: {"entity_id": "https://idp.acme.test/saml", "certificate_sha256": "F0:0C"}},
        )
    client.force_login(owner)
    response = client.get(reverse("activity:index", args=[workspace.slug]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Changed the SAML details (earlier settings)" in page
    assert "Removed the SAML details (earlier settings)" in page
    assert page.count("SAML details (earlier settings)") >= 4  # each event's action and target type
    assert "SAML: https://idp.acme.test/saml" in page
