"""Reads of auto-join by e-mail domain: a domain's status, the domain an address belongs to, and the
lists and choices of the join-domain and join-request pages. They change nothing; the writes are in
``workspaces.joining.services``.
"""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404

from permissions import catalog
from permissions.selectors import roles_of
from workspaces.joining.dns import email_domain, join_domain_refusal, parent_domains
from workspaces.models import JoinDomain, JoinRequest, Membership, Workspace

# Joining by domain gives one of these built-in roles, or a custom workspace role (never Owner,
# Admin or Billing admin: a domain admits people nobody picked one by one).
JOINABLE_BUILTIN_ROLES = frozenset({catalog.MEMBER, catalog.VIEWER})


def domain_status(join_domain: JoinDomain) -> str:
    """ "verified", "suspended" or "pending" (not verified yet)."""
    if join_domain.verified_at is None:
        return "pending"
    return "suspended" if join_domain.suspended_at is not None else "verified"


def domain_for_email(email: str) -> JoinDomain | None:
    """The verified, active join domain an address belongs to, or None.

    Exact after normalisation (case, IDNA), or a parent domain that includes its subdomains; the
    most specific wins. Comparing whole labels of the normalised name is what keeps look-alikes
    out: "evil-acme.com", "acme.com.evil.com", "acme.co" and a Cyrillic "аcme.com" are other names.
    """
    name = email_domain(email)
    if name is None:
        return None
    candidates = JoinDomain.objects.filter(
        domain__in=parent_domains(name), verified_at__isnull=False, suspended_at__isnull=True
    ).select_related("workspace", "role")
    # A domain stored before it was refusable (a free-mail provider, a public suffix) never matches.
    matches = [
        found
        for found in candidates
        if (found.domain == name or found.include_subdomains) and join_domain_refusal(found.domain) is None
    ]
    return max(matches, key=lambda found: len(found.domain), default=None)


def workspace_join_domains(workspace: Workspace):
    return JoinDomain.objects.filter(workspace=workspace).select_related("role", "added_by").order_by("domain")


def pending_join_requests(workspace: Workspace):
    """Pending requests of people who are not members yet (an invite may have admitted them since)."""
    members = Membership.objects.filter(workspace=workspace).values("user_id")
    return (
        JoinRequest.objects.filter(workspace=workspace, status=JoinRequest.Status.PENDING)
        .exclude(user_id__in=members)
        .select_related("user", "domain__role")
        .order_by("created_at", "pk")
    )


def joinable_roles(workspace: Workspace):
    """The roles a join domain may give: built-in Member and Viewer, and this workspace's custom roles."""
    return (
        roles_of(workspace, catalog.WORKSPACE)
        .filter(Q(builtin=False) | Q(key__in=JOINABLE_BUILTIN_ROLES))
        .prefetch_related(None)
    )


def join_domain_in(workspace: Workspace, pk) -> JoinDomain:
    """The join domain ``pk`` of ``workspace`` (404 otherwise), with its role."""
    found = get_object_or_404(JoinDomain.objects.select_related("role"), workspace=workspace, pk=pk)
    found.workspace = workspace
    return found


def join_request_in(workspace: Workspace, pk) -> JoinRequest:
    """The join request ``pk`` of ``workspace`` (404 otherwise), with the person who asked."""
    found = get_object_or_404(JoinRequest.objects.select_related("user"), workspace=workspace, pk=pk)
    found.workspace = workspace
    return found
