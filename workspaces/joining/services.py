"""Auto-join by e-mail domain (docs/RULES.md 4.4): join domains, matching, join requests.

A workspace lists join domains. A domain works only once verified, and a verified domain belongs
to one workspace (the ``join_domain_verified_once`` constraint keeps that true under races). It is
verified at once when the person adding it has a verified address at exactly that domain, or later
by a DNS TXT record ``portal-verification=<token>`` published *at the domain itself* (not at a
sub-name), which ``join_domain_verify_dns`` reads with a real resolver. ``join_domains_recheck``
(``manage.py verify_domains``) suspends DNS-verified domains whose record is gone and restores
them when it is back.

A public e-mail provider or a public suffix (``domains.join_domain_refusal``) is never a join
domain, whoever asks and however it would be verified: owning an address at outlook.de proves
nothing about who else has one there. A domain stored before that check never matches.

When a person's address becomes verified, ``auto_join`` finds the domain it belongs to
(``domain_for_email``) and either makes them a member or files a join request that someone with
``invite_members`` approves or declines. A pending invitation to that workspace wins: the invite
carries its own role, grants and teams, and its link is the person's way in.

Domain changes need ``manage_auto_join``; decisions on requests need ``invite_members``. Each
change writes one audit event. The verification token is never written to the audit log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User, normalize_email
from accounts.signals import Followed
from audit.services import record
from billing.limits import PlanLimitReached
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.models import Role
from permissions.policy import Access, require, require_can_give
from permissions.roles import builtin_role
from workspaces import notices
from workspaces.joining.dns import (
    DnsLookupFailed,
    InvalidDomain,
    email_domain,
    has_verification_record,
    join_domain_refusal,
    normalize_domain,
    txt_record_value,
    unicode_form,
)
from workspaces.joining.selectors import JOINABLE_BUILTIN_ROLES, domain_for_email, domain_status
from workspaces.models import Invite, JoinDomain, JoinRequest, Membership, Workspace
from workspaces.people.services import member_add


def _state(join_domain: JoinDomain) -> dict:
    return {
        "domain": join_domain.domain,
        "role": join_domain.role.name,
        "mode": join_domain.mode,
        "include_subdomains": join_domain.include_subdomains,
        "status": domain_status(join_domain),
        "method": join_domain.verification_method,
    }


def _taken_message(name: str) -> str:
    return f"{unicode_form(name)} is already verified by another workspace; a domain belongs to one workspace only."


def _clean_domain(value: str) -> str:
    try:
        name = normalize_domain(value)
    except InvalidDomain as exc:
        raise RuleViolation(str(exc)) from exc
    if refusal := join_domain_refusal(name):  # free mail, throw-away mail, public suffixes
        raise RuleViolation(refusal)
    return name


def _check_role(actor, workspace: Workspace, role: Role) -> None:
    if role.scope != catalog.WORKSPACE or role.workspace_id not in (None, workspace.pk):
        raise RuleViolation(f"“{role}” is not a workspace role of {workspace}.")
    if role.builtin and role.key not in JOINABLE_BUILTIN_ROLES:
        raise RuleViolation("People who join by domain get Member, Viewer or a custom role of this workspace.")
    require_can_give(actor, role, workspace)  # rule 3


def _check_mode(mode: str) -> None:
    if mode not in JoinDomain.Mode.values:
        raise RuleViolation(f"“{mode}” is not a joining mode.")


def _actor_proves(actor, name: str) -> bool:
    """The actor's own verified address is at exactly this domain (not a subdomain, not a parent)."""
    return actor is not None and actor.email_verified_at is not None and email_domain(actor.email) == name


def _save_guarded(join_domain: JoinDomain, *, update_fields=None) -> None:
    """Save, turning a lost race on the one-verified-domain constraint into the rule's message."""
    try:
        with transaction.atomic():
            join_domain.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise RuleViolation(_taken_message(join_domain.domain)) from exc


# --- join domains -------------------------------------------------------------------------------


@transaction.atomic
def join_domain_add(
    *,
    actor,
    workspace: Workspace,
    domain: str,
    role: Role,
    mode: str = JoinDomain.Mode.AUTOMATIC,
    include_subdomains: bool = False,
) -> JoinDomain:
    """List a join domain. Verified at once if the actor's verified address is at exactly this
    domain; otherwise it waits for its DNS record (``txt_record_value(verification_token)``)."""
    require(actor, "manage_auto_join", workspace)
    name = _clean_domain(domain)
    _check_role(actor, workspace, role)
    _check_mode(mode)
    if JoinDomain.objects.filter(workspace=workspace, domain=name).exists():
        raise RuleViolation(f"{unicode_form(name)} is already on this workspace's list.")
    if JoinDomain.objects.filter(domain=name, verified_at__isnull=False).exists():
        raise RuleViolation(_taken_message(name))
    join_domain = JoinDomain(
        workspace=workspace,
        domain=name,
        role=role,
        mode=mode,
        include_subdomains=include_subdomains,
        verification_token=secrets.token_hex(16),
        added_by=actor,
    )
    if _actor_proves(actor, name):
        join_domain.verified_at, join_domain.verification_method = timezone.now(), JoinDomain.Method.EMAIL
    _save_guarded(join_domain)
    record(action="join_domain.add", actor=actor, workspace=workspace, target=join_domain, after=_state(join_domain))
    return join_domain


def join_domain_verify_dns(*, actor, domain: JoinDomain) -> JoinDomain:
    """Verify (or restore a suspended) domain by its TXT record. RuleViolation when the record is
    missing or wrong, or DNS does not answer; nothing changes then."""
    require(actor, "manage_auto_join", domain.workspace)
    if domain_status(domain) == "verified":
        return domain
    # The look-up runs outside the transaction: no row stays locked while DNS answers.
    try:
        found = has_verification_record(domain.domain, domain.verification_token)
    except DnsLookupFailed as exc:
        raise RuleViolation(
            f"The DNS servers did not answer for {unicode_form(domain.domain)}; nothing changed. "
            "Try again in a few minutes."
        ) from exc
    if not found:
        raise RuleViolation(
            f"No TXT record “{txt_record_value(domain.verification_token)}” was found at "
            f"{unicode_form(domain.domain)}. New DNS records can take a while to appear; try again later."
        )
    with transaction.atomic():
        locked = JoinDomain.objects.select_for_update(of=("self",)).select_related("role").get(pk=domain.pk)
        if domain_status(locked) == "verified":
            return locked
        if JoinDomain.objects.filter(domain=locked.domain, verified_at__isnull=False).exclude(pk=locked.pk).exists():
            raise RuleViolation(_taken_message(locked.domain))
        before = _state(locked)
        locked.verified_at = locked.verified_at or timezone.now()
        locked.verification_method, locked.suspended_at = JoinDomain.Method.DNS, None
        _save_guarded(locked, update_fields=["verified_at", "verification_method", "suspended_at"])
        record(
            action="join_domain.verify",
            actor=actor,
            workspace=domain.workspace,
            target=locked,
            before=before,
            after=_state(locked),
        )
    return locked


@transaction.atomic
def join_domain_update(
    *,
    actor,
    domain: JoinDomain,
    mode: str | None = None,
    role: Role | None = None,
    include_subdomains: bool | None = None,
) -> JoinDomain:
    """Change a domain's mode, role or subdomain setting; audited only when something changed."""
    workspace = domain.workspace
    require(actor, "manage_auto_join", workspace)
    locked = JoinDomain.objects.select_for_update(of=("self",)).select_related("role").get(pk=domain.pk)
    changes = {}
    if mode is not None and mode != locked.mode:
        _check_mode(mode)
        changes["mode"] = mode
    if role is not None and role.pk != locked.role_id:
        _check_role(actor, workspace, role)
        changes["role"] = role
    if include_subdomains is not None and include_subdomains != locked.include_subdomains:
        changes["include_subdomains"] = include_subdomains
    if not changes:
        return locked
    before = _state(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(changes))
    after = _state(locked)
    record(
        action="join_domain.update",
        actor=actor,
        workspace=workspace,
        target=locked,
        before={k: v for k, v in before.items() if before[k] != after[k]},
        after={k: v for k, v in after.items() if before[k] != after[k]},
    )
    return locked


@transaction.atomic
def join_domain_remove(*, actor, domain: JoinDomain) -> None:
    """Take a domain off the list: nobody joins through it any more. Its pending requests stay,
    to be approved (with Member) or declined."""
    workspace = domain.workspace
    require(actor, "manage_auto_join", workspace)
    record(action="join_domain.remove", actor=actor, workspace=workspace, target=domain, before=_state(domain))
    domain.delete()


@dataclass
class RecheckResult:
    """What ``join_domains_recheck`` found, domain by domain."""

    still_verified: list[JoinDomain] = field(default_factory=list)
    suspended: list[JoinDomain] = field(default_factory=list)  # newly suspended: the record is gone
    still_suspended: list[JoinDomain] = field(default_factory=list)
    restored: list[JoinDomain] = field(default_factory=list)  # the record is back
    failed: list[tuple[JoinDomain, str]] = field(default_factory=list)  # DNS did not answer: unchanged

    @property
    def checked(self) -> int:
        lists = (self.still_verified, self.suspended, self.still_suspended, self.restored, self.failed)
        return sum(len(found) for found in lists)


def join_domains_recheck(*, workspace: Workspace | None = None) -> RecheckResult:
    """Re-read the TXT record of every DNS-verified domain (of one workspace, or all).

    A domain whose record is gone is suspended (it stops matching but stays this workspace's);
    one whose record is back is restored. A look-up that fails changes nothing: an outage is not
    proof that the record was removed.
    """
    result = RecheckResult()
    domains = JoinDomain.objects.filter(verification_method=JoinDomain.Method.DNS, verified_at__isnull=False)
    if workspace is not None:
        domains = domains.filter(workspace=workspace)
    for join_domain in domains.select_related("workspace", "role").order_by("domain", "pk"):
        try:
            present = has_verification_record(join_domain.domain, join_domain.verification_token)
        except DnsLookupFailed as exc:
            result.failed.append((join_domain, str(exc)))
            continue
        suspended = join_domain.suspended_at is not None
        if present and suspended:
            _set_suspended(join_domain, False)
            result.restored.append(join_domain)
        elif not present and not suspended:
            _set_suspended(join_domain, True)
            result.suspended.append(join_domain)
        else:
            (result.still_verified if present else result.still_suspended).append(join_domain)
    return result


@transaction.atomic
def _set_suspended(join_domain: JoinDomain, suspend: bool) -> None:
    before = _state(join_domain)
    join_domain.suspended_at = timezone.now() if suspend else None
    JoinDomain.objects.filter(pk=join_domain.pk).update(suspended_at=join_domain.suspended_at)
    record(
        action="join_domain.suspend" if suspend else "join_domain.restore",
        workspace=join_domain.workspace,
        target=join_domain,
        before=before,
        after=_state(join_domain),
    )


# --- matching and joining -----------------------------------------------------------------------


def _has_pending_invite(workspace: Workspace, email: str) -> bool:
    return Invite.objects.filter(
        workspace=workspace,
        email__iexact=normalize_email(email),
        status=Invite.Status.PENDING,
        expires_at__gt=timezone.now(),
    ).exists()


@transaction.atomic
def auto_join_on_verify(sender, *, user: User, **kwargs) -> Followed | None:
    """``accounts.signals.address_verified``: join (or ask to join) by the address's domain, and
    say which workspace, for the verification page."""
    outcome = auto_join(user)
    if isinstance(outcome, Membership):
        workspace = outcome.workspace
        return Followed(
            message=f"You joined {workspace.name} as {outcome.role.name}: your address is at a domain it admits.",
            link_url=workspace.get_absolute_url(),
            link_text=f"Open {workspace.name}",
        )
    if isinstance(outcome, JoinRequest):
        answer = " We will e-mail you the answer." if user.notify_workspace_changes else ""
        return Followed(
            message=(
                f"You asked to join {outcome.workspace.name}: your address is at a domain it admits on request. "
                f"Your request is awaiting approval by its administrators.{answer}"
            ),
        )
    return None


def auto_join(user: User) -> Membership | JoinRequest | None:
    """Called when ``user``'s address becomes verified: join, or ask to join, the workspace whose
    verified domain the address is at. Returns the new membership, the (pending) join request, or
    None when nothing applies. An unverified address never joins."""
    if not user.is_active or user.email_verified_at is None:
        return None
    join_domain = domain_for_email(user.email)
    if join_domain is None:
        return None
    workspace = join_domain.workspace
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        return None
    if _has_pending_invite(workspace, user.email):
        return None  # the invitation wins: its link, role, grants and teams are the person's way in
    if join_domain.mode == JoinDomain.Mode.AUTOMATIC and _role_still_givable(join_domain):
        try:
            return member_add(
                workspace=workspace, user=user, role=join_domain.role, actor=user, action="member.auto_join"
            )
        except PlanLimitReached:
            pass  # the plan is full: the person asks instead, so verifying their address still succeeds
    return _request_create(user, join_domain)


def _role_still_givable(join_domain: JoinDomain) -> bool:
    """Rule 3 at the time of joining: the domain's role must still be one its adder may give. If
    they were demoted or left since, nobody joins automatically; the person asks instead, and
    whoever approves gives the role with their own rights."""
    adder = join_domain.added_by
    return adder is None or Access(adder).can_give(join_domain.role, join_domain.workspace)


def _request_create(user: User, join_domain: JoinDomain) -> JoinRequest:
    workspace = join_domain.workspace
    pending = JoinRequest.objects.filter(workspace=workspace, user=user, status=JoinRequest.Status.PENDING)
    if (existing := pending.first()) is not None:
        return existing
    try:
        with transaction.atomic():
            join_request = JoinRequest.objects.create(workspace=workspace, user=user, domain=join_domain)
    except IntegrityError:  # a concurrent call filed it first (one pending request per person)
        return pending.get()
    record(
        action="join_request.create",
        actor=user,
        workspace=workspace,
        target=join_request,
        after={"user": user.email, "domain": join_domain.domain, "role": join_domain.role.name},
    )
    notices.join_request_filed(join_request)
    return join_request


# --- join requests ------------------------------------------------------------------------------


def _lock_pending(join_request: JoinRequest) -> JoinRequest:
    locked = (
        JoinRequest.objects.select_for_update(of=("self",))
        .select_related("user", "workspace", "domain__role")
        .get(pk=join_request.pk)
    )
    if locked.status != JoinRequest.Status.PENDING:
        raise RuleViolation(f"The request of {locked.user.email} was already {locked.get_status_display().lower()}.")
    return locked


def _decide(join_request: JoinRequest, actor, status: str) -> None:
    join_request.status, join_request.decided_by, join_request.decided_at = status, actor, timezone.now()
    join_request.save(update_fields=["status", "decided_by", "decided_at"])


@transaction.atomic
def join_request_approve(*, actor, join_request: JoinRequest) -> Membership:
    """Admit the person with their domain's role (Member if the domain was removed since)."""
    require(actor, "invite_members", join_request.workspace)
    join_request = _lock_pending(join_request)
    workspace, user = join_request.workspace, join_request.user
    if not user.is_active:
        raise RuleViolation(f"{user.email}'s account is deactivated; decline the request instead.")
    role = join_request.domain.role if join_request.domain is not None else builtin_role(catalog.MEMBER)
    require_can_give(actor, role, workspace)  # rule 3
    _decide(join_request, actor, JoinRequest.Status.APPROVED)
    existing = Membership.objects.filter(workspace=workspace, user=user).select_related("role").first()
    if existing is None:
        # member_add writes the one audit event of this change, under the approval's name.
        membership = member_add(workspace=workspace, user=user, role=role, actor=actor, action="join_request.approve")
    else:
        membership = existing
        record(
            action="join_request.approve",
            actor=actor,
            workspace=workspace,
            target=existing,
            after={"user": user.email, "role": existing.role.name, "already_member": True},
        )
    notices.join_request_answered(join_request, membership=membership)
    return membership


@transaction.atomic
def join_request_decline(*, actor, join_request: JoinRequest) -> JoinRequest:
    require(actor, "invite_members", join_request.workspace)
    join_request = _lock_pending(join_request)
    _decide(join_request, actor, JoinRequest.Status.DECLINED)
    record(
        action="join_request.decline",
        actor=actor,
        workspace=join_request.workspace,
        target=join_request,
        before={"user": join_request.user.email, "status": "pending"},
        after={"user": join_request.user.email, "status": "declined"},
    )
    notices.join_request_answered(join_request, membership=None)
    return join_request
