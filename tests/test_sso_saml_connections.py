"""SAML 2.0 connections on the workspace's SSO settings page: configured by pasting the identity
provider's metadata (entity ID, single sign-on URL, signing certificates read from it, nothing
fetched), with the rules of every connection (manage_sso, verified join domains, a default role
never Owner and givable, audited); the page shows what the identity provider needs."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from sso.models import Connection
from sso.saml_services import saml_connection_add, saml_connection_update
from sso.services import connection_remove, connection_set_enabled
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership
from workspaces.people.services import member_change_role

pytestmark = pytest.mark.django_db
CERT = base64.b64encode(b"not a real certificate, only its text is stored here" * 4).decode()


def metadata(entity="https://idp.acme.test/saml", url="https://idp.acme.test/sso", cert=CERT, binding="Redirect"):
    key = (
        f'<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
        f"<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        if cert
        else ""
    )
    return (
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">'
        f'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key}'
        f'<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-{binding}" Location="{url}"/>'
        f"</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


@pytest.fixture
def owner(db):
    return UserFactory(email="olivia@acme.test")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


@pytest.fixture
def domain(owner, workspace):
    return join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))


def add(owner, workspace, domain, **kwargs) -> Connection:
    fields = {
        "name": "Acme SAML",
        "metadata_xml": metadata(),
        "domains": [domain],
        "default_role": builtin_role(catalog.MEMBER),
        **kwargs,
    }
    return saml_connection_add(actor=owner, workspace=workspace, **fields)


def test_add_reads_the_metadata_and_audits(owner, workspace, domain):
    connection = add(owner, workspace, domain)
    assert connection.is_saml and connection.enabled
    assert connection.idp_entity_id == "https://idp.acme.test/saml"
    assert connection.idp_sso_url == "https://idp.acme.test/sso" and connection.idp_certificates == [CERT]
    assert (connection.issuer, connection.client_id, connection.client_secret) == ("", "", "")
    event = AuditEvent.objects.get(action="sso_connection.add")
    assert event.after["kind"] == "saml" and event.after["idp_certificates"] == 1
    assert event.after["domains"] == ["acme.test"] and event.after["default_role"] == "Member"


def test_post_binding_only_metadata_is_read(owner, workspace, domain):
    connection = add(owner, workspace, domain, metadata_xml=metadata(binding="POST"))
    assert connection.idp_sso_url == "https://idp.acme.test/sso"


@pytest.mark.parametrize(
    "given",
    [
        "",
        "not xml at all",
        "<x/>",
        metadata(cert=""),
        metadata(url="ftp://idp.acme.test/sso"),
        metadata(url="http://idp.acme.test/sso"),  # plain HTTP is refused outside development
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        metadata()
        .replace("<md:IDPSSODescriptor", "<md:SPSSODescriptor")
        .replace("</md:IDPSSODescriptor", "</md:SPSSODescriptor"),
        "<" * 300_000,
    ],
)
def test_unusable_metadata_is_refused(owner, workspace, domain, settings, given):
    settings.SSO_ALLOW_HTTP_ISSUER = False
    with pytest.raises(RuleViolation):
        add(owner, workspace, domain, metadata_xml=given)
    assert not Connection.objects.exists()


def test_owner_role_and_ungivable_roles_are_refused(owner, workspace, domain):
    with pytest.raises(RuleViolation, match="never makes anyone an owner"):
        add(owner, workspace, domain, default_role=builtin_role(catalog.OWNER))
    # Rule 3: a custom role with manage_sso but not Admin's capabilities cannot make it give Admin.
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="SSO manager",
        capabilities={"manage_sso", "view_workspace_settings"},
    )
    manager = add_member(workspace, user=UserFactory(email="sam@acme.test")).user
    member_change_role(actor=None, membership=Membership.objects.get(user=manager), role=role)
    with pytest.raises(RuleViolation, match="cannot give capabilities you do not hold"):
        add(manager, workspace, domain, default_role=builtin_role(catalog.ADMIN))
    assert not Connection.objects.exists()
    pending = join_domain_add(actor=owner, workspace=workspace, domain="other.test", role=builtin_role(catalog.VIEWER))
    with pytest.raises(RuleViolation, match="verified join domains"):
        add(owner, workspace, domain, domains=[pending])


def test_only_verified_domains_of_this_workspace_and_one_connection_per_domain(owner, workspace, domain):
    other_owner = UserFactory(email="bob@beta.test")
    beta = make_workspace(other_owner, "Beta")
    beta_domain = join_domain_add(
        actor=other_owner, workspace=beta, domain="beta.test", role=builtin_role(catalog.VIEWER)
    )
    with pytest.raises(RuleViolation):
        add(owner, workspace, domain, domains=[beta_domain])
    add(owner, workspace, domain)
    with pytest.raises(RuleViolation):  # acme.test already signs in through the first one
        add(owner, workspace, domain, name="Second")


def test_member_without_manage_sso_is_refused(owner, workspace, domain):
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mo@acme.test")).user
    with pytest.raises(Exception):  # noqa: B017 - the policy's refusal
        add(member, workspace, domain)
    connection = add(owner, workspace, domain)
    with pytest.raises(Exception):  # noqa: B017
        saml_connection_update(
            actor=member,
            connection=connection,
            name="x",
            domains=[domain],
            default_role=connection.default_role,
            enabled=True,
        )


def test_update_keeps_or_replaces_the_metadata_audited(owner, workspace, domain):
    connection = add(owner, workspace, domain)
    saml_connection_update(
        actor=owner,
        connection=connection,
        name="Renamed",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
        enabled=True,
    )
    connection.refresh_from_db()
    assert connection.name == "Renamed" and connection.idp_certificates == [CERT]
    new_cert = base64.b64encode(b"another certificate" * 8).decode()
    saml_connection_update(
        actor=owner,
        connection=connection,
        name="Renamed",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
        enabled=True,
        metadata_xml=metadata(cert=new_cert),
    )
    connection.refresh_from_db()
    assert connection.idp_certificates == [new_cert]
    events = AuditEvent.objects.filter(action="sso_connection.update").order_by("pk")
    assert [e.after.get("idp_certificates_changed", False) for e in events] == [False, True]
    connection_set_enabled(actor=owner, connection=connection, enabled=False)
    connection_remove(actor=owner, connection=connection)
    assert not Connection.objects.exists()


# --- pages -----------------------------------------------------------------------------------------


def test_pages_add_show_sp_values_and_metadata(client, owner, workspace, domain):
    client.force_login(owner)
    page = client.get(reverse("sso:index", args=[workspace.slug]))
    assert reverse("sso:add_saml", args=[workspace.slug]).encode() in page.content
    response = client.post(
        reverse("sso:add_saml", args=[workspace.slug]),
        {
            "name": "Acme SAML",
            "metadata_xml": metadata(),
            "domains": [domain.pk],
            "default_role": builtin_role(catalog.MEMBER).pk,
            "enabled": "on",
        },
    )
    connection = Connection.objects.get()
    assert response.status_code == 302 and connection.is_saml
    edit = client.get(reverse("sso:edit", args=[workspace.slug, connection.pk]))
    content = edit.content.decode()
    assert f"http://testserver/sso/saml/c{connection.pk}/metadata/" in content  # entity ID
    assert f"http://testserver/sso/saml/c{connection.pk}/acs/" in content  # ACS URL
    assert "https://idp.acme.test/saml" in content and CERT not in content
    listing = client.get(reverse("sso:index", args=[workspace.slug])).content.decode()
    assert "SAML 2.0" in listing and "https://idp.acme.test/saml" in listing
    download = client.get(reverse("sso_saml_metadata", args=[connection.provider_id]), {"download": "1"})
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    xml = download.content.decode()
    assert f'entityID="http://testserver/sso/saml/c{connection.pk}/metadata/"' in xml
    assert f'Location="http://testserver/sso/saml/c{connection.pk}/acs/"' in xml
    # Edit: empty metadata keeps the identity provider's settings.
    saved = client.post(
        reverse("sso:edit", args=[workspace.slug, connection.pk]),
        {"name": "Acme SAML 2", "metadata_xml": "", "domains": [domain.pk], "default_role": connection.default_role_id},
    )
    assert saved.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Acme SAML 2" and not connection.enabled and connection.idp_certificates == [CERT]
    refused = client.post(
        reverse("sso:add_saml", args=[workspace.slug]),
        {"name": "Bad", "metadata_xml": "<x/>", "domains": [domain.pk], "default_role": connection.default_role_id},
    )
    assert refused.status_code == 200 and b"The metadata names no single sign-on service" in refused.content
    assert not Connection.objects.filter(name="Bad").exists()


def test_pages_need_manage_sso_and_other_workspaces_ids_are_404(client, owner, workspace, domain):
    connection = add(owner, workspace, domain)
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mo@acme.test")).user
    client.force_login(member)
    assert client.get(reverse("sso:add_saml", args=[workspace.slug])).status_code == 403
    assert client.get(reverse("sso:edit", args=[workspace.slug, connection.pk])).status_code == 403
    intruder = UserFactory(email="ivan@beta.test")
    beta = make_workspace(intruder, "Beta")
    client.force_login(intruder)
    assert client.get(reverse("sso:edit", args=[beta.slug, connection.pk])).status_code == 404
    assert client.post(reverse("sso:edit", args=[beta.slug, connection.pk]), {"name": "x"}).status_code == 404


def test_a_saml_connection_is_not_an_openid_connect_app(client, owner, workspace, domain):
    connection = add(owner, workspace, domain)
    assert client.get(f"/sso/oidc/{connection.provider_id}/login/callback/", {"code": "x"}).status_code == 404
    assert client.get("/sso/saml/c999999/metadata/").status_code == 404
