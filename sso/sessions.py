"""What a session remembers about single sign-on: the workspace and connection whose identity
provider signed it in. Set by ``adapter.pre_social_login`` right after Django's ``login``, cleared
by every other sign-in (``forget``, a receiver of ``user_logged_in``, runs inside ``login``
before the adapter sets the mark), so a password sign-in never inherits it."""

from __future__ import annotations

from twofactor import session as two_factor_session

WORKSPACE = "sso_workspace"
CONNECTION = "sso_connection"
BYPASS_RECORDED = "sso_bypass_recorded"


def mark_signed_in(request, connection, *, mfa: bool = False) -> None:
    """Right after Django's ``login``: the session was signed in through ``connection``. When the
    identity provider said the sign-in was multi-factor (``mfa``, read by ``sso.mfa``) and the
    connection trusts it, the session is verified for the connection's workspace's two-factor
    requirement too (``twofactor.session``), and owes no code."""
    if mfa and connection.trust_idp_mfa:
        two_factor_session.mark_verified_by_identity_provider(request, connection)
    request.session[WORKSPACE] = connection.workspace_id
    request.session[CONNECTION] = connection.pk


def signed_in_through(request) -> int | None:
    """The id of the workspace whose identity provider signed this session in, or None."""
    found = request.session.get(WORKSPACE)
    return found if isinstance(found, int) else None


def forget(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        for key in (WORKSPACE, CONNECTION, BYPASS_RECORDED):
            request.session.pop(key, None)


def bypass_first_time(request, workspace_id: int) -> bool:
    """Whether this session opens this workspace by the owners' way round for the first time
    (so that it is audited once per session, not once per page)."""
    seen = request.session.get(BYPASS_RECORDED)
    seen = list(seen) if isinstance(seen, list) else []
    if workspace_id in seen:
        return False
    request.session[BYPASS_RECORDED] = [*seen, workspace_id]
    return True
