"""Testing a connection ("Test the connection" on its page, ``manage_sso``): a sign-in at the
identity provider that reports what the provider sent and changes nothing.

- ``begin`` marks the flow in the tester's session: a random token bound to the connection and the
  tester, used once, valid for ten minutes. The OpenID Connect flow carries the token in allauth's
  server-side state (``oidc.start``), the SAML flow in the session's pending AuthnRequest
  (``saml.start``): nothing the browser or the identity provider sends can turn a sign-in into a
  test or a test into a sign-in. A disabled connection answers only a session with a test of it
  under way (``pending``; for the SAML ACS's cross-site POST, which carries no session, the
  RelayState sent with the test's AuthnRequest lets its answer be held: ``relay_names``).
- The callback / ACS runs every usual check (signature, audience, issuer, state, nonce, replay,
  times: the same code, the same reason codes); ``take`` spends the mark; then, instead of
  ``services.sso_sign_in``, ``report`` says what a sign-in would do (``services.group_mapping_plan``
  as a dry run) and ``finish`` audits the outcome (``sso.connection_test``: never the claims) and
  shows the report (``views.ConnectionTestResultView``). Nobody is signed in; no account,
  membership or team is written; the tester stays signed in as themselves. Replay protection
  still spends the assertion ID (SAML) and the state and nonce (OpenID Connect).
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.shortcuts import redirect
from django.utils import timezone

from accounts.addresses import normalize_email
from accounts.models import User
from permissions.policy import access_of
from workspaces.joining.selectors import domain_for_email
from workspaces.models import Membership

from .models import Connection
from .services import (
    REFUSALS,
    SignInRefused,
    _address,
    _claim_values,
    connection_test_record,
    group_mapping_plan,
)

SESSION_KEY = "sso_connection_tests"
RESULTS_KEY = "sso_connection_test_results"
LIFETIME_SECONDS = 600
MAX_PENDING = 3
MAX_RESULTS = 5
RELAY_PREFIX = "sso-connection-test-relay:"

# What a report shows of the raw claims / attributes: capped, and never a token, a secret or a signature.
MAX_CLAIMS = 60
MAX_KEY_CHARS = 100
MAX_VALUE_CHARS = 1000
MAX_GROUPS = 50
HIDDEN_CLAIMS = frozenset({"at_hash", "c_hash", "s_hash"})
HIDDEN_WORDS = ("token", "secret", "password", "signature")

OIDC = "OpenID Connect"
SAML = "SAML 2.0"


# --- the mark ---------------------------------------------------------------------------------------


def _marks(request) -> list[dict]:
    found = request.session.get(SESSION_KEY)
    now = time.time()
    return [m for m in found if isinstance(m, dict) and m.get("expires", 0) > now] if isinstance(found, list) else []


def begin(request, connection: Connection) -> tuple[str, str]:
    """Mark a test of ``connection`` by this session's person; the token the flow carries and the
    RelayState for a SAML AuthnRequest."""
    token, relay = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    marks = _marks(request)[-(MAX_PENDING - 1) :]
    expires = time.time() + LIFETIME_SECONDS
    marks.append(
        {"token": token, "relay": relay, "connection": connection.pk, "user": request.user.pk, "expires": expires}
    )
    request.session[SESSION_KEY] = marks
    cache.set(f"{RELAY_PREFIX}{relay}", connection.pk, LIFETIME_SECONDS)
    return token, relay


def _mine(request, mark: dict, connection: Connection) -> bool:
    user = getattr(request, "user", None)
    return (
        mark.get("connection") == connection.pk
        and user is not None
        and user.is_authenticated
        and mark.get("user") == user.pk
    )


def pending(request, connection: Connection | None) -> bool:
    """Whether this session's person has a test of ``connection`` under way."""
    if connection is None or not hasattr(request, "session"):
        return False
    return any(_mine(request, mark, connection) for mark in _marks(request))


def relay_names(relay_state: str, connection: Connection) -> bool:
    """Whether a RelayState is that of a test of ``connection`` under way (only lets the SAML ACS
    hold the answer of a disabled connection; the session decides whether it is a test)."""
    if not isinstance(relay_state, str) or not 20 <= len(relay_state) <= 100:
        return False
    return cache.get(f"{RELAY_PREFIX}{relay_state}") == connection.pk


def take(request, token: str, connection: Connection) -> bool:
    """Spend the mark ``token``: True when it is this session's person's test of ``connection``,
    still valid, and they still may manage single sign-on in its workspace."""
    marks = _marks(request)
    found = next((m for m in marks if isinstance(token, str) and m.get("token") == token), None)
    if found is None:
        return False
    request.session[SESSION_KEY] = [m for m in marks if m is not found]
    cache.delete(f"{RELAY_PREFIX}{found.get('relay')}")
    return _mine(request, found, connection) and access_of(request.user).has("manage_sso", connection.workspace)


# --- the report -------------------------------------------------------------------------------------


def _text(value, limit: int = MAX_VALUE_CHARS) -> str:
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(value) <= limit else f"{value[:limit]}… ({len(value)} characters)"


def raw_claims(claims: dict) -> tuple[list[list[str]], int]:
    """The claims or attributes as (name, value) lines to show, and how many were left out."""
    shown = [
        key
        for key in sorted(claims, key=str)
        if str(key) not in HIDDEN_CLAIMS and not any(word in str(key).lower() for word in HIDDEN_WORDS)
    ]
    lines = [[_text(str(key), MAX_KEY_CHARS), _text(claims[key])] for key in shown[:MAX_CLAIMS]]
    return lines, len(claims) - len(lines)


def _address_facts(connection: Connection, claims: dict) -> dict:
    raw = claims.get("email")
    facts = {"email": _text(raw, 254) if isinstance(raw, str) else "", "email_valid": False, "at_domain": False}
    if not isinstance(raw, str) or not raw.strip():
        return facts
    email = normalize_email(raw)
    try:
        validate_email(email)
    except ValidationError:
        return facts
    join_domain = domain_for_email(email)
    facts.update(
        email_valid=True,
        at_domain=join_domain is not None
        and join_domain.workspace_id == connection.workspace_id
        and connection.domains.filter(pk=join_domain.pk).exists(),
    )
    return facts


def _mapping(connection: Connection, membership: Membership | None, claims: dict) -> dict:
    plan = group_mapping_plan(connection, membership, claims)
    setter = connection.mapping_set_by
    giver = access_of(setter) if setter is not None else None
    workspace = connection.workspace

    def line(what) -> dict:
        return {"name": what.name, "skipped": giver is None or not giver.can_give(what, workspace)}

    return {
        "not_applied": plan.not_applied,
        "role": line(plan.role) if plan.role is not None else None,
        "add": [line(team) for team in plan.add],
        "remove": [line(team) for team in plan.remove],
    }


def report(connection: Connection, claims: dict, *, protocol: str, subject: str, mfa: list[str], raw: dict) -> dict:
    """What a sign-in with these verified ``claims`` would do, reading only (the same checks as
    ``services.sso_sign_in``, in the same order, with the same reasons); ``raw`` is what the
    provider sent, shown capped."""
    reason, email = "", ""
    try:
        email = _address(connection, claims)
    except SignInRefused as exc:
        reason = exc.reason
    membership = None
    if email:
        membership = (
            Membership.objects.filter(workspace=connection.workspace, user__email=email).select_related("role").first()
        )
        user = User.objects.filter(email=email).first()
        if user is not None and not user.is_active:
            reason = "account_inactive"
        elif membership is None:
            setter = connection.updated_by
            if setter is not None and not access_of(setter).can_give(connection.default_role, connection.workspace):
                reason = "role_not_givable"
    groups = sorted(_claim_values(claims.get(connection.group_claim)))
    verified = claims.get("email_verified")
    lines, left_out = raw_claims(raw)
    return {
        "protocol": protocol,
        "at": timezone.now().isoformat(),
        "outcome": "would_refuse" if reason else "passed",
        "reason": reason,
        "verified": True,
        "subject": _text(subject, 500),
        **_address_facts(connection, claims),
        "email_verified": verified is True or (isinstance(verified, str) and verified.lower() == "true"),
        "name": _text(claims.get("name"), 150) if isinstance(claims.get("name"), str) else "",
        "group_claim": connection.group_claim,
        "groups": [_text(g, 255) for g in groups[:MAX_GROUPS]],
        "groups_left_out": max(0, len(groups) - MAX_GROUPS),
        "member_role": membership.role.name if membership is not None else "",
        "default_role": connection.default_role.name,
        "mapping": _mapping(connection, membership, claims) if not reason else None,
        "mfa": [_text(m, 200) for m in mfa[:10]],
        "claims": lines,
        "claims_left_out": left_out,
    }


def refusal(protocol: str, reason: str) -> dict:
    """The report of an answer that failed verification: only the reason."""
    return {"protocol": protocol, "at": timezone.now().isoformat(), "outcome": "refused", "reason": reason}


def finish(request, connection: Connection, result: dict):
    """Audit the test and show its report to the tester."""
    connection_test_record(
        actor=request.user, connection=connection, outcome=result["outcome"], reason=result.get("reason", "")
    )
    results = request.session.get(RESULTS_KEY)
    results = dict(results) if isinstance(results, dict) else {}
    results.pop(str(connection.pk), None)
    results[str(connection.pk)] = {**result, "user": request.user.pk}
    request.session[RESULTS_KEY] = dict(list(results.items())[-MAX_RESULTS:])
    return redirect("sso:test_result", connection.workspace.slug, connection.pk)


def result_for(request, connection: Connection) -> dict | None:
    """The last test of ``connection`` this session's person made, with the reason in words."""
    results = request.session.get(RESULTS_KEY)
    found = results.get(str(connection.pk)) if isinstance(results, dict) else None
    if not isinstance(found, dict) or found.get("user") != request.user.pk:
        return None
    try:
        at = datetime.fromisoformat(found.get("at") or "")
    except (TypeError, ValueError):
        at = None
    return {**found, "at": at, "reason_text": REFUSALS.get(found.get("reason") or "", "")}
