"""A connection that trusts its identity provider's multi-factor sign-in (``Connection.trust_idp_mfa``).

- Sign-in: the provider's assertion (OpenID Connect ``amr``/``acr``, SAML AuthnContextClassRef) is
  read and audited (``mfa``); through a trusting connection it verifies the session for that
  workspace's two-factor requirement, so its pages open without an authenticator app. Against real
  identity providers started on 127.0.0.1: oidc-provider (npm), pysaml2's and the tests' own SAML
  provider.
- Holding: members at a domain of an enabled, trusting connection of the workspace keep what they
  hold under the requirement without an authenticator app (``policy.holds_under_two_factor``);
  nobody else does.
- The door stays shut: a password session of such a member, a provider that says no second
  factor, a connection that does not trust it, or another workspace's provider still owes a code.
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.models import AccessVersion
from permissions.policy import Access, holders, load_permissions
from permissions.roles import builtin_role
from sso import mfa
from sso.models import Connection
from sso.saml_services import saml_connection_add, saml_connection_update
from sso.services import connection_add, connection_set_enabled, connection_update, sso_requirement_set
from tests.factories import UserFactory, add_member, make_workspace
from tests.oidc.processes import oidc_provider_idp
from tests.saml.processes import authn_request, crafted, saml_idp, sign_in_at_idp, sign_in_at_pysaml2
from tests.twofactor_factories import code_for, enable_two_factor
from twofactor import selectors
from twofactor import session as two_factor_session
from twofactor.services import two_factor_requirement_set
from workspaces.joining.services import join_domain_add, join_domain_update
from workspaces.models import JoinDomain

pytestmark = pytest.mark.django_db

NINA = "nina@acme.test"
PASSWORD = "a long and unusual passphrase"
TOTP = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def workspace_with_domain(name: str, domain: str):
    owner = UserFactory(email=f"owner@{domain}")
    workspace = make_workspace(owner, name)
    joined = join_domain_add(actor=owner, workspace=workspace, domain=domain, role=builtin_role(catalog.VIEWER))
    return owner, workspace, joined


@pytest.fixture
def acme(db):
    return workspace_with_domain("Acme", "acme.test")


def oidc_connection(acme, issuer="https://idp.acme.test", secret="client-secret-value", **extra) -> Connection:
    owner, workspace, domain = acme
    return connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme IdP",
        issuer=issuer,
        client_id="portal-test",
        client_secret=secret,
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
        **extra,
    )


def require_two_factor(owner, workspace):
    enable_two_factor(owner)  # the requirement is switched on by someone who has it
    two_factor_requirement_set(actor=owner, workspace=workspace, required=True)


def holds(user, workspace) -> bool:
    return Access(user).has("view_workspace", workspace)


# -- what counts as a multi-factor sign-in -------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"amr": ["pwd", "mfa"]}, True),
        ({"amr": ["pwd", "otp"]}, True),
        ({"amr": ["hwk"]}, True),
        ({"amr": ["swk", "pwd"]}, True),
        ({"amr": ["sc"]}, True),
        ({"amr": ["fido"]}, True),
        ({"amr": "mfa"}, True),
        ({"acr": "http://schemas.openid.net/pape/policies/2007/06/multi-factor"}, True),
        ({"amr": ["pwd"]}, False),
        ({"amr": ["pwd", "sms"]}, False),
        ({"amr": ["MFA"]}, False),  # RFC 8176 values are compared exactly
        ({"amr": [["mfa"]], "acr": ["mfa"]}, False),
        ({"amr": {"mfa": True}}, False),
        ({"amr": None, "acr": 2}, False),
        ({"acr": "urn:mace:incommon:iap:silver"}, False),
        ({}, False),
    ],
)
def test_oidc_claims_that_assert_mfa(claims, expected):
    assert mfa.oidc_asserted_mfa(claims) is expected


@pytest.mark.parametrize(
    ("contexts", "expected"),
    [
        ([TOTP], True),
        (["urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"], True),
        (["http://schemas.microsoft.com/claims/multipleauthn"], True),
        (["https://refeds.org/profile/mfa"], True),
        ([PASSWORD_CONTEXT, TOTP], True),
        ([PASSWORD_CONTEXT], False),
        (["urn:oasis:names:tc:SAML:2.0:ac:classes:X509"], False),
        (["urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"], False),
        (["urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncTokenX"], False),
        ([], False),
        (None, False),
    ],
)
def test_saml_contexts_that_assert_mfa(contexts, expected):
    assert mfa.saml_asserted_mfa(contexts) is expected


# -- the setting ---------------------------------------------------------------------------------


def test_trust_is_off_by_default_and_audited_when_changed(acme):
    owner, workspace, _ = acme
    connection = oidc_connection(acme)
    assert connection.trust_idp_mfa is False
    assert AuditEvent.objects.get(action="sso_connection.add").after["trust_idp_mfa"] is False
    domains = list(connection.domains.all())
    common = {"name": "Acme IdP", "issuer": connection.issuer, "client_id": "portal-test", "domains": domains}
    connection_update(
        actor=owner,
        connection=connection,
        default_role=connection.default_role,
        enabled=True,
        trust_idp_mfa=True,
        **common,
    )
    connection.refresh_from_db()
    assert connection.trust_idp_mfa is True
    event = AuditEvent.objects.filter(action="sso_connection.update").latest("pk")
    assert event.before["trust_idp_mfa"] is False and event.after["trust_idp_mfa"] is True
    # Not given (None): kept, and nothing to audit.
    connection_update(actor=owner, connection=connection, default_role=connection.default_role, enabled=True, **common)
    connection.refresh_from_db()
    assert connection.trust_idp_mfa is True
    assert AuditEvent.objects.filter(action="sso_connection.update").count() == 1


def test_someone_without_manage_sso_cannot_turn_it_on(acme):
    _, workspace, _ = acme
    connection = oidc_connection(acme)
    member = add_member(workspace, catalog.MEMBER).user
    assert not Access(member).has("manage_sso", workspace)
    with pytest.raises(PermissionDenied):
        connection_update(
            actor=member,
            connection=connection,
            name="Acme IdP",
            issuer=connection.issuer,
            client_id="portal-test",
            domains=list(connection.domains.all()),
            default_role=connection.default_role,
            enabled=True,
            trust_idp_mfa=True,
        )
    connection.refresh_from_db()
    assert connection.trust_idp_mfa is False
    assert not AuditEvent.objects.filter(action="sso_connection.update").exists()


def test_the_connection_page_explains_and_saves_it(client, acme):
    owner, workspace, _ = acme
    connection = oidc_connection(acme)
    client.force_login(owner)
    url = reverse("sso:edit", args=[workspace.slug, connection.pk])
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Trust the identity provider&#x27;s multi-factor sign-in" in text
    assert "“amr” claim" in text and "A password sign-in still asks them for a code" in text
    form = page.context["form"]
    data = {
        "name": "Acme IdP",
        "issuer": connection.issuer,
        "client_id": "portal-test",
        "client_secret": "",
        "domains": [d.pk for d in connection.domains.all()],
        "default_role": connection.default_role_id,
        "enabled": "on",
        "trust_idp_mfa": "on",
    }
    assert "trust_idp_mfa" in form.fields
    response = client.post(url, data)
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.trust_idp_mfa is True
    assert client.get(url).context["form"].initial["trust_idp_mfa"] is True
    assert client.post(url, {**data, "trust_idp_mfa": ""}).status_code == 302
    connection.refresh_from_db()
    assert connection.trust_idp_mfa is False


# -- holding under the requirement (permissions.policy) -------------------------------------------


@pytest.fixture
def requiring(acme):
    """Acme requires two-factor authentication; Nina (at acme.test, no authenticator app) is a
    member; the connection trusts its provider's multi-factor sign-in."""
    owner, workspace, domain = acme
    connection = oidc_connection(acme, trust_idp_mfa=True)
    require_two_factor(owner, workspace)
    nina = UserFactory(email=NINA, password=PASSWORD)
    add_member(workspace, catalog.MEMBER, nina)
    return owner, workspace, domain, connection, nina


def test_member_at_a_trusting_connections_domain_keeps_what_they_hold(requiring):
    owner, workspace, _, _, nina = requiring
    assert holds(nina, workspace)
    assert holders("view_workspace", workspace).filter(user=nina).exists()


def test_without_trust_a_member_without_an_app_holds_nothing(requiring):
    owner, workspace, domain, connection, nina = requiring
    connection_update(
        actor=owner,
        connection=connection,
        name=connection.name,
        issuer=connection.issuer,
        client_id=connection.client_id,
        domains=[domain],
        default_role=connection.default_role,
        enabled=True,
        trust_idp_mfa=False,
    )
    assert not holds(nina, workspace)
    assert not holders("view_workspace", workspace).filter(user=nina).exists()


def test_a_disabled_connection_does_not_count(requiring):
    owner, workspace, _, connection, nina = requiring
    connection_set_enabled(actor=owner, connection=connection, enabled=False)
    assert not holds(nina, workspace)


def test_a_suspended_domain_does_not_count(requiring):
    _, workspace, domain, _, nina = requiring
    JoinDomain.objects.filter(pk=domain.pk).update(suspended_at=timezone.now())
    assert not holds(nina, workspace)


@pytest.mark.parametrize(
    "email",
    ["pat@elsewhere.test", "pat@evilacme.test", "pat@acme.test.evil.test", "acme.test@evil.test", "pat@sub.acme.test"],
)
def test_members_at_other_domains_are_unchanged(requiring, email):
    _, workspace, _, _, _ = requiring
    other = add_member(workspace, catalog.MEMBER, UserFactory(email=email)).user
    assert not holds(other, workspace)


def test_subdomains_count_only_when_the_join_domain_includes_them(requiring):
    owner, workspace, domain, _, _ = requiring
    sub = add_member(workspace, catalog.MEMBER, UserFactory(email="pat@eu.acme.test")).user
    assert not holds(sub, workspace)
    join_domain_update(actor=owner, domain=domain, include_subdomains=True)
    assert holds(sub, workspace)


def test_an_upper_case_address_is_at_its_domain(requiring):
    _, workspace, _, _, _ = requiring
    user = UserFactory(email="pat@acme.test")
    User.objects.filter(pk=user.pk).update(email="Pat@ACME.test")
    add_member(workspace, catalog.MEMBER, user)
    assert holds(User.objects.get(pk=user.pk), workspace)


def test_another_workspaces_trusting_connection_does_not_help_here(db):
    """Globex trusts its provider for globex.test; Acme requires two-factor authentication and
    has Gus, at globex.test, as a member: Gus holds nothing in Acme."""
    g_owner, globex, g_domain = workspace_with_domain("Globex", "globex.test")
    oidc_connection((g_owner, globex, g_domain), trust_idp_mfa=True)
    a_owner, acme, _ = workspace_with_domain("Acme", "acme.test")
    require_two_factor(a_owner, acme)
    gus = UserFactory(email="gus@globex.test")
    add_member(acme, catalog.MEMBER, gus)
    assert not holds(gus, acme)


def test_changing_the_trust_changes_the_access_version(requiring):
    owner, workspace, domain, connection, _ = requiring
    before = AccessVersion.objects.get(workspace_id=workspace.pk).version
    connection_update(
        actor=owner,
        connection=connection,
        name=connection.name,
        issuer=connection.issuer,
        client_id=connection.client_id,
        domains=[domain],
        default_role=connection.default_role,
        enabled=True,
        trust_idp_mfa=False,
    )
    assert AccessVersion.objects.get(workspace_id=workspace.pk).version != before


@pytest.mark.parametrize("size", [3, 30])
def test_the_rule_costs_no_query_per_member(requiring, size):
    """``holders`` and ``load_permissions`` over many members, half at the trusting connection's
    domain and half elsewhere: as many queries at any size, and the right people."""
    _, workspace, _, _, nina = requiring
    inside = [add_member(workspace, catalog.MEMBER, UserFactory(email=f"in{i}@acme.test")).user for i in range(size)]
    outside = [add_member(workspace, catalog.MEMBER, UserFactory(email=f"out{i}@else.test")).user for i in range(size)]
    with CaptureQueriesContext(db_connection) as counted:
        found = set(holders("view_workspace", workspace).values_list("user_id", flat=True))
        loaded = load_permissions([u.pk for u in inside + outside], catalog.WORKSPACE, [workspace.pk])
    assert len(counted.captured_queries) == 2
    assert {u.pk for u in inside} <= found and not found & {u.pk for u in outside}
    assert all("view_workspace" in loaded[(u.pk, workspace.pk)] for u in inside)
    assert not any((u.pk, workspace.pk) in loaded for u in outside)


# -- the session gate: a password session still owes the second factor ----------------------------


def test_a_password_session_of_such_a_member_still_owes_set_up(client, requiring):
    _, workspace, _, _, nina = requiring
    assert holds(nina, workspace)  # the policy lets her hold…
    client.force_login(nina)
    response = client.get(workspace.get_absolute_url())
    # … but her password session does not open the workspace without a second factor.
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor:setup"))


def test_another_workspaces_identity_provider_verification_opens_nothing_here(client, requiring):
    """A session verified by Globex's trusted provider is not verified for Acme."""
    _, workspace, _, _, nina = requiring
    g_owner, globex, g_domain = workspace_with_domain("Globex", "globex.test")
    g_connection = oidc_connection((g_owner, globex, g_domain), trust_idp_mfa=True)
    client.force_login(nina)
    session = client.session
    session[two_factor_session.IDP_VERIFIED] = globex.pk
    session[two_factor_session.IDP_CONNECTION] = g_connection.pk
    session.save()
    response = client.get(workspace.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor:setup"))


def test_a_new_sign_in_forgets_the_identity_providers_verification(client, requiring):
    _, workspace, _, _, nina = requiring
    client.force_login(nina)
    session = client.session
    session[two_factor_session.IDP_VERIFIED] = workspace.pk
    session[two_factor_session.IDP_CONNECTION] = requiring[3].pk
    session.save()
    assert client.get(workspace.get_absolute_url()).status_code == 200
    client.post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), {"username": NINA, "password": PASSWORD})
    assert two_factor_session.IDP_VERIFIED not in client.session
    response = client.get(workspace.get_absolute_url())
    assert response.status_code == 302


# -- OpenID Connect, end to end against oidc-provider ----------------------------------------------


@pytest.fixture(scope="module")
def oidc_idp():
    if shutil.which("node") is None or not (Path(settings.BASE_DIR) / "node_modules/oidc-provider").exists():
        pytest.skip("node and node_modules/oidc-provider (npm ci) are needed")
    secret = secrets.token_urlsafe(24)
    with oidc_provider_idp(client_id="portal-test", client_secret=secret, redirect_prefix="http://testserver") as iss:
        yield iss, secret


def oidc_sign_in(client, issuer: str, email: str, login: str):
    """The sign-in page's address step, the provider's own login page filled as a person would
    (``login`` may carry ";amr=…", see tests/oidc/idp.mjs), and back to the portal's callback."""
    response = client.post(reverse("accounts:login"), {"username": email})
    assert response.status_code == 200 and response.templates[0].name == "sso/continue.html"
    url = response.context["continue_url"]
    browser = requests.Session()
    answer = browser.get(url, allow_redirects=False, timeout=10)
    for _ in range(10):
        location = urljoin(answer.url, answer.headers.get("Location", ""))
        if location.startswith("http://testserver"):
            back = urlsplit(location)
            return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
        if answer.status_code in (302, 303):
            answer = browser.get(location, allow_redirects=False, timeout=10)
            continue
        action = re.search(r'<form[^>]*action="([^"]+)"', answer.text).group(1)
        fields = {"prompt": "login", "login": login, "password": "anything"}
        answer = browser.post(urljoin(answer.url, action), data=fields, allow_redirects=False, timeout=10)
    raise AssertionError("the provider did not send the browser back")


@pytest.fixture
def oidc_requiring(oidc_idp, acme):
    issuer, secret = oidc_idp
    owner, workspace, _ = acme
    connection = oidc_connection(acme, issuer=issuer, secret=secret, trust_idp_mfa=True)
    require_two_factor(owner, workspace)
    return owner, workspace, connection


def test_oidc_mfa_through_a_trusting_connection_opens_the_workspace_without_an_app(client, oidc_requiring):
    _, workspace, connection = oidc_requiring
    response = oidc_sign_in(client, oidc_requiring[2].issuer, NINA, f"{NINA};amr=pwd,otp")
    assert response.status_code == 302 and response["Location"] == workspace.get_absolute_url()
    nina = User.objects.get(email=NINA)
    assert int(client.session[SESSION_KEY]) == nina.pk
    assert not nina.totpdevice_set.exists()
    page = client.get(workspace.get_absolute_url())
    assert page.status_code == 200
    assert client.session[two_factor_session.VERIFIED_HOW] == "identity provider"
    event = AuditEvent.objects.get(action="sso.sign_in")
    assert event.after["mfa"] is True and event.after["mfa_trusted"] is True
    assert holds(nina, workspace)


@pytest.mark.parametrize("withdrawn", ["trust", "enabled"])
def test_oidc_mfa_session_owes_set_up_once_the_trust_is_withdrawn(client, oidc_requiring, withdrawn):
    owner, workspace, connection = oidc_requiring
    oidc_sign_in(client, connection.issuer, NINA, f"{NINA};amr=otp")
    assert client.get(workspace.get_absolute_url()).status_code == 200
    if withdrawn == "trust":
        Connection.objects.filter(pk=connection.pk).update(trust_idp_mfa=False)
    else:
        connection_set_enabled(actor=owner, connection=connection, enabled=False)
    response = client.get(workspace.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor:setup"))


def test_the_requirement_page_opens_to_an_admin_verified_by_the_trusted_provider(client, oidc_requiring):
    """An Admin signed in through the trusted provider with multi-factor manages the requirement
    without an authenticator app, as the workspace's other pages open to them."""
    _, workspace, connection = oidc_requiring
    add_member(workspace, catalog.ADMIN, UserFactory(email=NINA))
    oidc_sign_in(client, connection.issuer, NINA, f"{NINA};amr=mfa")
    page = client.get(reverse("two_factor:workspace_policy", args=[workspace.slug]))
    assert page.status_code == 200


def test_oidc_without_mfa_still_owes_set_up(client, oidc_requiring):
    _, workspace, connection = oidc_requiring
    oidc_sign_in(client, connection.issuer, NINA, f"{NINA};amr=pwd")
    response = client.get(workspace.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor:setup"))
    assert AuditEvent.objects.get(action="sso.sign_in").after["mfa"] is False
    # No amr at all: the same.
    client.logout()
    oidc_sign_in(client, connection.issuer, NINA, NINA)
    assert client.get(workspace.get_absolute_url()).status_code == 302


def test_oidc_mfa_through_a_connection_that_does_not_trust_it_still_owes_set_up(client, oidc_requiring):
    owner, workspace, connection = oidc_requiring
    connection_update(
        actor=owner,
        connection=connection,
        name=connection.name,
        issuer=connection.issuer,
        client_id=connection.client_id,
        domains=list(connection.domains.all()),
        default_role=connection.default_role,
        enabled=True,
        trust_idp_mfa=False,
    )
    oidc_sign_in(client, connection.issuer, NINA, f"{NINA};amr=pwd,mfa")
    response = client.get(workspace.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor:setup"))
    event = AuditEvent.objects.get(action="sso.sign_in")
    assert event.after["mfa"] is True and event.after["mfa_trusted"] is False


def test_oidc_mfa_of_a_member_with_an_app_owes_no_code_here_but_does_elsewhere(client, oidc_requiring):
    """Nina has an authenticator app: the trusted multi-factor sign-in spares her the code for
    Acme, not for Other, another workspace that requires two-factor authentication."""
    _, workspace, connection = oidc_requiring
    nina = UserFactory(email=NINA)
    device, _ = enable_two_factor(nina)
    add_member(workspace, catalog.MEMBER, nina)
    other_owner, other, _ = workspace_with_domain("Other", "other.test")
    require_two_factor(other_owner, other)
    add_member(other, catalog.MEMBER, nina)
    oidc_sign_in(client, connection.issuer, NINA, f"{NINA};amr=mfa")
    assert not two_factor_session.is_pending(client)
    assert client.get(workspace.get_absolute_url()).status_code == 200
    response = client.get(other.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor:verify"))
    # A code then verifies the session for every workspace, as before.
    client.post(f"{reverse('two_factor:verify')}?next=/", {"code": code_for(device)})
    assert client.get(other.get_absolute_url()).status_code == 200


def test_oidc_sign_in_with_required_sso_and_mfa(client, oidc_requiring):
    """Both requirements at once: the trusted multi-factor sign-in through the workspace's own
    provider satisfies both."""
    owner, workspace, connection = oidc_requiring
    sso_requirement_set(actor=owner, workspace=workspace, required=True)
    oidc_sign_in(client, connection.issuer, NINA, f"{NINA};amr=hwk")
    page = client.get(workspace.get_absolute_url())
    assert page.status_code == 200
    assert "sso/required.html" not in [template.name for template in page.templates]


# -- SAML, end to end against pysaml2's identity provider and the tests' own -----------------------


@pytest.fixture(scope="module")
def pysaml2():
    if shutil.which("xmlsec1") is None:
        pytest.skip("pysaml2 signs with xmlsec1 (Debian package xmlsec1)")
    with saml_idp("pysaml2_idp.py") as found:
        yield found


@pytest.fixture(scope="module")
def own_idp():
    with saml_idp() as found:
        yield found


def saml_requiring(acme, idp: dict, *, trust: bool = True):
    owner, workspace, domain = acme
    connection = saml_connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme SAML",
        metadata_xml=idp["metadata"],
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
        trust_idp_mfa=trust,
    )
    require_two_factor(owner, workspace)
    return owner, workspace, connection


def register_with_pysaml2(client, pysaml2, connection):
    metadata = client.get(reverse("sso_saml_metadata", args=[connection.provider_id])).content
    requests.post(f"{pysaml2['base']}/register", data=metadata, timeout=10).raise_for_status()


def saml_start(client, email: str) -> str:
    response = client.post(reverse("accounts:login"), {"username": email})
    assert response.status_code == 200 and response.templates[0].name == "sso/continue.html"
    return response.context["continue_url"]


def post_acs(client, connection, encoded: str):
    posted = client.post(reverse("sso_saml_acs", args=[connection.provider_id]), {"SAMLResponse": encoded})
    assert posted.status_code == 303
    return client.get(reverse("sso_saml_acs_finish", args=[connection.provider_id]))


def test_saml_mfa_context_from_pysaml2_opens_the_workspace_without_an_app(client, acme, pysaml2):
    _, workspace, connection = saml_requiring(acme, pysaml2)
    register_with_pysaml2(client, pysaml2, connection)
    response = post_acs(client, connection, sign_in_at_pysaml2(saml_start(client, NINA), NINA, TOTP))
    assert response.status_code == 302 and response["Location"] == workspace.get_absolute_url()
    assert client.get(workspace.get_absolute_url()).status_code == 200
    event = AuditEvent.objects.get(action="sso.sign_in")
    assert event.after["mfa"] is True and event.after["mfa_trusted"] is True


def test_saml_password_context_from_pysaml2_still_owes_set_up(client, acme, pysaml2):
    _, workspace, connection = saml_requiring(acme, pysaml2)
    register_with_pysaml2(client, pysaml2, connection)
    post_acs(client, connection, sign_in_at_pysaml2(saml_start(client, NINA), NINA))
    assert int(client.session[SESSION_KEY]) == User.objects.get(email=NINA).pk
    response = client.get(workspace.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor:setup"))
    assert AuditEvent.objects.get(action="sso.sign_in").after["mfa"] is False


@pytest.mark.parametrize(
    ("context", "trust", "opens"),
    [
        ("http://schemas.microsoft.com/claims/multipleauthn", True, True),
        ("urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard", True, True),
        ("http://schemas.microsoft.com/claims/multipleauthn", False, False),
        (PASSWORD_CONTEXT, True, False),
        ("urn:example:mfa", True, False),
    ],
)
def test_saml_contexts_through_the_tests_own_provider(client, acme, own_idp, context, trust, opens):
    _, workspace, connection = saml_requiring(acme, own_idp, trust=trust)
    post_acs(client, connection, sign_in_at_idp(saml_start(client, NINA), NINA, context))
    assert int(client.session[SESSION_KEY]) == User.objects.get(email=NINA).pk
    response = client.get(workspace.get_absolute_url())
    assert (response.status_code == 200) is opens
    if not opens:
        assert response["Location"].startswith(reverse("two_factor:setup"))


def test_saml_mfa_for_one_workspace_opens_nothing_in_another(client, own_idp):
    """Globex's provider, trusted by Globex, asserts multi-factor for Gus; Acme requires two-factor
    authentication and has Gus as a member: Acme still asks him to set it up."""
    g_owner, globex, g_domain = workspace_with_domain("Globex", "globex.test")
    _, _, connection = saml_requiring((g_owner, globex, g_domain), own_idp)
    a_owner, acme, _ = workspace_with_domain("Acme", "acme.test")
    require_two_factor(a_owner, acme)
    request = authn_request(saml_start(client, "gus@globex.test"))
    encoded = crafted(
        own_idp,
        case="honest",
        acs=request["acs"],
        audience=request["audience"],
        email="gus@globex.test",
        in_response_to=request["id"],
        authn_context=TOTP,
    )
    post_acs(client, connection, encoded)
    gus = User.objects.get(email="gus@globex.test")
    add_member(acme, catalog.MEMBER, gus)
    assert client.get(globex.get_absolute_url()).status_code == 200
    response = client.get(acme.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor:setup"))
    assert not holds(gus, acme)


def test_saml_update_keeps_or_changes_the_trust(acme, own_idp):
    owner, workspace, domain = acme
    connection = saml_connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme SAML",
        metadata_xml=own_idp["metadata"],
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )
    assert connection.trust_idp_mfa is False
    common = {"name": "Acme SAML", "domains": [domain], "default_role": connection.default_role, "enabled": True}
    saml_connection_update(actor=owner, connection=connection, trust_idp_mfa=True, **common)
    connection.refresh_from_db()
    assert connection.trust_idp_mfa is True
    event = AuditEvent.objects.filter(action="sso_connection.update").latest("pk")
    assert event.before["trust_idp_mfa"] is False and event.after["trust_idp_mfa"] is True
    saml_connection_update(actor=owner, connection=connection, **common)
    connection.refresh_from_db()
    assert connection.trust_idp_mfa is True


def test_the_saml_connection_page_explains_which_authn_contexts_count(client, acme, own_idp):
    owner, workspace, domain = acme
    connection = saml_connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme SAML",
        metadata_xml=own_idp["metadata"],
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )
    client.force_login(owner)
    url = reverse("sso:edit", args=[workspace.slug, connection.pk])
    text = client.get(url).content.decode()
    assert "Trust the identity provider&#x27;s multi-factor sign-in" in text
    assert "AuthnContextClassRef" in text and "TimeSyncToken" in text and "multipleauthn" in text
    data = {
        "name": "Acme SAML",
        "metadata_xml": "",
        "domains": [domain.pk],
        "default_role": connection.default_role_id,
        "enabled": "on",
        "trust_idp_mfa": "on",
    }
    assert client.post(url, data).status_code == 302
    connection.refresh_from_db()
    assert connection.trust_idp_mfa is True


def test_the_requirement_page_counts_members_whose_provider_is_trusted_apart(client, requiring):
    """Nina has no authenticator app but signs in through a trusted provider: the owners' page says
    so instead of telling them she is led to set one up; Omar, at another domain, is."""
    owner, workspace, _, _, nina = requiring
    add_member(workspace, catalog.MEMBER, UserFactory(email="omar@elsewhere.test"))
    assert selectors.members_without_two_factor(workspace) == (2, 1)
    client.force_login(owner)
    device = TOTPDevice.objects.get(user=owner, confirmed=True)
    assert client.post(reverse("two_factor:verify"), {"code": code_for(device)}).status_code == 302
    page = client.get(reverse("two_factor:workspace_policy", args=[workspace.slug])).content.decode()
    assert "2 members have not set up two-factor authentication." in page
    assert "1 of them signs in through an identity provider whose multi-factor sign-in this workspace trusts" in page
    assert "The other 1 is led to set it up the next time they open the workspace." in page
