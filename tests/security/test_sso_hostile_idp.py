"""Single sign-on against a hostile identity provider: a real HTTP server on 127.0.0.1
(tests/oidc/hostile_idp.py) that issues crafted ID tokens. Every crafted answer is refused, the
refusal is audited with the connection and the reason, and nothing is created: no account, no
membership, nobody signed in. A connection of one workspace never signs anyone into another."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils.html import escape

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from sso.models import Connection
from sso.services import connection_add
from tests.factories import UserFactory, make_workspace
from tests.oidc.processes import hostile_idp
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership

pytestmark = pytest.mark.django_db
NEWCOMER = "nina@acme.test"


@pytest.fixture(scope="module")
def issuer():
    with hostile_idp() as found:
        yield found


@pytest.fixture
def acme(db):
    owner = UserFactory(email="olivia@acme.test")
    workspace = make_workspace(owner, "Acme")
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    return owner, workspace, domain


def connect(acme, issuer: str, attack: str) -> Connection:
    owner, workspace, domain = acme
    return connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme IdP",
        issuer=issuer,
        client_id=attack,
        client_secret="client-secret-value",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )


def start(client, email: str, issuer: str) -> str:
    """The sign-in page's e-mail-only step; answers the identity provider's URL it redirects to."""
    response = client.post(reverse("accounts:login"), {"username": email})
    assert response.status_code == 200 and response.templates[0].name == "sso/continue.html"
    url = response.context["continue_url"]
    assert url.startswith(f"{issuer}/") and f'href="{escape(url)}"' in response.content.decode()
    return url


def come_back(client, authorize_url: str, *, state: str | None = None):
    """Let the identity provider answer, then follow its redirect back to the portal's callback."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    if state is not None:
        query["state"] = state
    return client.get(back.path, query)


def sign_in(client, email: str, issuer: str):
    return come_back(client, start(client, email, issuer))


def assert_refused(client, response, reason: str, workspace, email: str = NEWCOMER):
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert SESSION_KEY not in client.session
    assert not User.objects.filter(email=email).exists()
    assert not Membership.objects.filter(workspace=workspace, user__email=email).exists()
    event = AuditEvent.objects.filter(action="sso.refused").latest("pk")
    assert event.after["reason"] == reason and event.after["connection"] == "Acme IdP"
    assert event.workspace_id == workspace.pk and event.target_id == str(Connection.objects.get().pk)
    assert not AuditEvent.objects.filter(action="sso.sign_in", after__email=email).exists()


def test_honest_provider_signs_in_and_provisions(client, acme, issuer, caplog):
    caplog.set_level("DEBUG")
    connect(acme, issuer, "honest")
    response = sign_in(client, NEWCOMER, issuer)
    workspace = acme[1]
    assert response.status_code == 302 and response["Location"] == workspace.get_absolute_url()
    user = User.objects.get(email=NEWCOMER)
    assert int(client.session[SESSION_KEY]) == user.pk
    assert user.email_verified_at is not None and not user.has_usable_password()
    assert Membership.objects.get(workspace=workspace, user=user).role.key == catalog.MEMBER
    event = AuditEvent.objects.get(action="sso.sign_in")
    assert event.after == {
        "connection": "Acme IdP",
        "email": NEWCOMER,
        "account_created": True,
        "joined": True,
        "mfa": False,  # the token has no "amr"
        "mfa_trusted": False,
    }
    # The client secret is in no log line and no audit event.
    assert "client-secret-value" not in caplog.text
    assert not any("client-secret-value" in f"{e.before}{e.after}" for e in AuditEvent.objects.all())


@pytest.mark.parametrize(
    "attack",
    ["wrong-issuer", "wrong-audience", "alg-none", "hs256", "other-key", "expired"],
)
def test_crafted_id_tokens_are_refused(client, acme, issuer, attack):
    connect(acme, issuer, attack)
    assert_refused(client, sign_in(client, NEWCOMER, issuer), "id_token", acme[1])


def test_discovery_naming_another_issuer_is_refused(client, acme, issuer):
    connect(acme, f"{issuer}/wrong-discovery", "honest")
    assert_refused(client, sign_in(client, NEWCOMER, issuer), "discovery", acme[1])


def test_state_mismatch_is_refused(client, acme, issuer):
    connect(acme, issuer, "honest")
    url = start(client, NEWCOMER, issuer)
    assert_refused(client, come_back(client, url, state="forged-state"), "state", acme[1])


def test_callback_replayed_is_refused(client, acme, issuer):
    """The state is used once: the same answer from the provider, sent again, signs nobody in."""
    connect(acme, issuer, "honest")
    url = start(client, NEWCOMER, issuer)
    answer = requests.get(url, allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    client.logout()
    replay = client.get(f"{back.path}?{back.query}")
    assert replay["Location"] == reverse("accounts:login") and SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="sso.refused").get().after["reason"] == "state"


def test_nonce_replay_is_refused(client, acme, issuer):
    """The provider answers the second sign-in with the first one's (valid, signed) nonce."""
    connect(acme, issuer, "nonce-replay")
    first = sign_in(client, "first@acme.test", issuer)
    assert first.status_code == 302 and SESSION_KEY in client.session
    client.logout()
    assert_refused(client, sign_in(client, NEWCOMER, issuer), "nonce", acme[1])


def test_missing_nonce_is_refused(client, acme, issuer):
    connect(acme, issuer, "no-nonce")
    assert_refused(client, sign_in(client, NEWCOMER, issuer), "nonce", acme[1])


def test_unverified_address_is_refused(client, acme, issuer):
    connect(acme, issuer, "unverified")
    assert_refused(client, sign_in(client, NEWCOMER, issuer), "email_not_verified", acme[1])


def test_address_outside_the_domains_is_refused(client, acme, issuer):
    connect(acme, issuer, "email=mallory@elsewhere.test")
    assert_refused(client, sign_in(client, NEWCOMER, issuer), "domain_not_bound", acme[1], "mallory@elsewhere.test")


def test_connection_of_a_never_signs_into_b(client, acme, issuer):
    """Acme's provider vouches for an address at Beta's verified domain: refused, and neither the
    account nor a Beta membership appears; Beta's member is not signed in."""
    beta_owner = UserFactory(email="bob@beta.test")
    beta = make_workspace(beta_owner, "Beta")
    join_domain_add(actor=beta_owner, workspace=beta, domain="beta.test", role=builtin_role(catalog.VIEWER))
    connect(acme, issuer, "email=bob@beta.test")
    response = sign_in(client, NEWCOMER, issuer)
    assert response["Location"] == reverse("accounts:login") and SESSION_KEY not in client.session
    assert Membership.objects.filter(workspace=beta).count() == 1
    assert not Membership.objects.filter(workspace=acme[1], user=beta_owner).exists()
    assert AuditEvent.objects.filter(action="sso.refused").get().after["reason"] == "domain_not_bound"

    connect_b = connection_add(
        actor=beta_owner,
        workspace=beta,
        name="Beta IdP",
        issuer=issuer,
        client_id="email=nina@acme.test",
        client_secret="x",
        domains=list(beta.join_domains.all()),
        default_role=builtin_role(catalog.ADMIN),
    )
    response = sign_in(client, "carl@beta.test", issuer)  # Beta's provider vouches for an Acme address
    assert response["Location"] == reverse("accounts:login") and SESSION_KEY not in client.session
    assert not User.objects.filter(email=NEWCOMER).exists()
    assert AuditEvent.objects.filter(action="sso.refused", target_id=str(connect_b.pk)).exists()


def test_disabled_or_unknown_connection_is_404(client, acme, issuer):
    connection = connect(acme, issuer, "honest")
    url = start(client, NEWCOMER, issuer)
    connection.enabled = False
    connection.save()
    answer = requests.get(url, allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 404
    for bad in ("c999999", "c0", "x1", "c١", "c1%00"):
        assert client.get(f"/sso/oidc/{bad}/login/callback/?code=a&state=b").status_code == 404
    assert not User.objects.filter(email=NEWCOMER).exists()


def test_disabled_connection_sends_nobody_to_its_provider(client, acme, issuer):
    connection = connect(acme, issuer, "honest")
    connection.enabled = False
    connection.save()
    response = client.post(reverse("accounts:login"), {"username": NEWCOMER})
    assert response.status_code == 200 and b"password" in response.content.lower()
