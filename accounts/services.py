"""Writes to accounts: sign-up, address verification, profile changes, passwords, and what staff
do to accounts in the admin (create, change, delete).

Views, commands and the admin call these; each runs in a transaction and writes one audit event
(workspace=None: an account belongs to no workspace). ``actor`` is whoever acted: the person
themselves, the staff member in the admin, or None for the system (a ``manage.py`` command).
No password or hash ever goes into an event.

What anyone may ask without signing in (``signup_request``, ``password_reset_request``) is
throttled per address and per client address (``accounts.throttle``) and answers the same whether
the address has an account or not, so neither tells a stranger who has an account.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import lock_account
from workspaces.models import Membership

from . import throttle
from .addresses import normalize_email, validate_address
from .emails import (
    send_email_change_link,
    send_email_changed_notice,
    send_password_reset_email,
    send_signup_attempt_email,
    send_verification_email,
)
from .models import EmailChange, User
from .selectors import token_hash
from .signals import Followed, address_verified

DUPLICATE_EMAIL_MESSAGE = (
    "An account with this e-mail address already exists. Sign in, or reset your password if you forgot it."
)


# The notification settings, in the order the profile page shows them; what each governs is in
# workspaces.notices.
NOTIFICATION_FIELDS = ("notify_workspace_changes", "notify_member_requests")
# What a person may change about themselves on the profile page (seed 004: whatever their role).
PROFILE_FIELDS = frozenset({"full_name", "time_zone", *NOTIFICATION_FIELDS})


@transaction.atomic
def account_signup(*, email: str, full_name: str, password: str, send_verification: bool = True) -> User:
    """Create an unverified account and mail it a verification link once the transaction commits.

    ``send_verification=False`` for a caller that verifies the address itself in the same
    transaction (the invitation page: following the invitation link proves the address).
    Raises ValidationError keyed by field ("email", "password") for an address already registered
    in any letter case, or a password the validators refuse.
    """
    try:
        email = validate_address(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": DUPLICATE_EMAIL_MESSAGE})
    user = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    try:
        # A savepoint, so that losing a race with a concurrent sign-up of the same address
        # (the case-insensitive unique constraint) becomes the same clear message.
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ValidationError({"email": DUPLICATE_EMAIL_MESSAGE}) from exc
    record(action="account.signup", actor=user, target=user, after={"email": user.email, "full_name": user.full_name})
    if send_verification:
        transaction.on_commit(lambda: send_verification_email(user))
    return user


def signup_request(*, email: str, full_name: str, password: str, client_ip: str | None = None) -> str:
    """Sign-up as the public page offers it; returns the canonical address.

    Throttled (``throttle.Throttled``) per address and per client address. The outcome is the same
    whether the address has an account or not: a new address gets an unverified account and a
    verification link; the owner of an existing address gets a mail saying that someone tried to
    sign up with it (sign in, or reset the password), and nothing else changes. The same password
    checks run, and a password is hashed, in both cases, so neither the errors nor the time taken
    tell the two apart. Nobody is signed in: the new account signs in once it has its link.
    Raises ValidationError keyed by field for an invalid address or a refused password.
    """
    try:
        address = validate_address(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    throttle.hit("signup", address=address, client=client_ip)  # committed on its own: see throttle
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=address).first()
        if existing is None:
            try:
                account_signup(email=address, full_name=full_name, password=password)
                return address
            except ValidationError as exc:
                if not (hasattr(exc, "error_dict") and "email" in exc.error_dict):
                    raise
                existing = User.objects.filter(email__iexact=address).first()  # a concurrent sign-up won
        try:
            validate_password(password, user=User(email=address, full_name=full_name.strip()))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        make_password(password)  # the cost of creating an account, so the time taken tells nothing
        if existing is not None and existing.is_active:
            transaction.on_commit(lambda: send_signup_attempt_email(existing))
    return address


def password_reset_request(*, email: str, client_ip: str | None = None) -> None:
    """Mail a password-reset link to the active account with this address (any spelling of it),
    if there is one; the same outcome, and no error, when there is none.

    Throttled (``throttle.Throttled``) per address and per client address, known addresses or not.
    """
    address = normalize_email(email)
    throttle.hit("password_reset", address=address, client=client_ip)
    send_password_reset_email(address)


def verification_resend(*, user: User) -> bool:
    """Mail a fresh link; False (and no mail) when the address is verified already."""
    if user.email_verified:
        return False
    send_verification_email(user)
    return True


@dataclass(frozen=True)
class Verification:
    """What verifying an address did: whether it was verified just now (False when it already
    was), and what that led to (``signals.Followed``, e.g. a workspace joined by domain)."""

    verified_now: bool
    followed: tuple[Followed, ...] = ()


def email_verify(user: User) -> bool:
    """Mark the address verified. False when it already was (a link used twice changes nothing)."""
    return email_verify_and_follow(user).verified_now


@transaction.atomic
def email_verify_and_follow(user: User) -> Verification:
    """Mark the address verified, and say what followed.

    Anything that should follow a verified address (joining by e-mail domain) listens to
    ``signals.address_verified``, sent here after the audit event, so every way of verifying
    triggers it; what the receivers answer comes back in ``Verification.followed``.
    """
    # The lock makes two simultaneous clicks on the link verify (and audit) once.
    locked = lock_account(user)
    if locked.email_verified_at is not None:
        user.email_verified_at = locked.email_verified_at
        return Verification(verified_now=False)
    locked.email_verified_at = user.email_verified_at = timezone.now()
    locked.save(update_fields=["email_verified_at"])
    record(action="account.verify", actor=locked, target=locked, after={"email": locked.email})
    answers = address_verified.send(sender=User, user=locked)
    return Verification(
        verified_now=True, followed=tuple(answer for _, answer in answers if isinstance(answer, Followed))
    )


@transaction.atomic
def profile_update(*, user: User, **fields) -> User:
    """Change a person's own name, time zone and notification settings; audited only when something
    changed. The model's validators hold here for every caller (a time zone must be a tz name)."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"Not a profile field: {', '.join(sorted(unknown))}")
    if "full_name" in fields:
        fields["full_name"] = (fields["full_name"] or "").strip()
    changed = {name: value for name, value in fields.items() if getattr(user, name) != value}
    if not changed:
        return user
    for name, value in changed.items():
        # Model-field validation (length, choices) holds for every caller, not just the form.
        try:
            changed[name] = User._meta.get_field(name).clean(value, user)
        except ValidationError as exc:
            raise ValidationError({name: exc.messages}) from exc
    before = {name: getattr(user, name) for name in changed}
    for name, value in changed.items():
        setattr(user, name, value)
    user.save(update_fields=sorted(changed))
    record(action="account.profile_update", actor=user, target=user, before=before, after=changed)
    return user


# --- changing one's own address ------------------------------------------------------------------


def email_change_request(*, user: User, new_email: str, password: str, client_ip: str | None = None) -> EmailChange:
    """Ask to change one's own address: mails a link to the new address (after the commit); the
    address changes only when the link is followed (``email_change_confirm``).

    The current password is asked again, so an open session alone cannot take the account over.
    The new address is normalised and must be free; a newer request replaces an older one.
    Throttled like a sign-up (each request mails an address). Raises RuleViolation, or
    ``throttle.Throttled``.
    """
    if not user.check_password(password or ""):
        raise RuleViolation("That is not your current password; nothing was changed.")
    address = normalize_email(new_email)
    if address == user.email:
        raise RuleViolation(f"{address} is already your address.")
    address = clean_new_email(address, excluding=user)
    throttle.hit("email_change", address=address, client=client_ip)
    token = secrets.token_urlsafe(32)  # 256 random bits; only its hash is stored
    with transaction.atomic():
        user = lock_account(user)  # the one lock order (kernel.locks)
        EmailChange.objects.filter(user=user).delete()  # the older link dies
        change = EmailChange.objects.create(
            user=user,
            new_email=address,
            token_hash=token_hash(token),
            expires_at=timezone.now() + timedelta(seconds=settings.EMAIL_VERIFICATION_MAX_AGE),
        )
        record(action="account.email_change_request", actor=user, target=user, after={"new_email": address})
        transaction.on_commit(lambda: send_email_change_link(user=user, new_email=address, token=token))
    return change


@transaction.atomic
def email_change_confirm(*, user: User, token: str) -> User:
    """Follow the link: the new address becomes the account's, verified (following the link
    proves it), and the old address is told. Once only; ``user`` must be the account that asked.

    Verifying the new address sends ``signals.address_verified``, as every verification does,
    so a join domain at the new address's domain applies.
    """
    asked_by, user = user, lock_account(user)  # the one lock order; two clicks at once change (and audit) once
    change = EmailChange.objects.filter(token_hash=token_hash(token or ""), user=user).first()
    if change is None:
        raise RuleViolation("This link was used or replaced by a newer one. Ask again from your profile.")
    if change.is_expired:
        change.delete()
        raise RuleViolation("This link has expired. Ask again from your profile.")
    old_email, new_email = user.email, change.new_email
    clean_new_email(new_email, excluding=user)  # taken meanwhile by a sign-up?
    EmailChange.objects.filter(user=user).delete()
    user.email, user.email_verified_at = new_email, timezone.now()
    try:
        with transaction.atomic():  # the case-insensitive unique constraint, should a sign-up win the race
            user.save(update_fields=["email", "email_verified_at"])
    except IntegrityError as exc:
        raise RuleViolation("Another account has this e-mail address.") from exc
    record(
        action="account.email_change",
        actor=user,
        target=user,
        before={"email": old_email},
        after={"email": new_email},
    )
    asked_by.email, asked_by.email_verified_at = user.email, user.email_verified_at  # the caller's copy too
    address_verified.send(sender=User, user=user)
    transaction.on_commit(lambda: send_email_changed_notice(user=user, old_email=old_email))
    return user


# --- passwords -------------------------------------------------------------------------------------

# How a password was set, as the audit event says: by staff in the admin, by the person on the
# password-change page, or by the person through an e-mailed reset link.
# "sso": an address first verified by single sign-on loses a password nobody proved was its owner's.
PASSWORD_SET_WAYS = frozenset({"admin", "change", "reset", "sso"})


@transaction.atomic
def account_password_set(*, actor, user: User, password: str | None, via: str) -> User:
    """Set ``user``'s password, or with ``password=None`` make it unusable (no password sign-in).

    The validators hold for every caller (RuleViolation with their messages). The event records
    who did it and how, never the password or its hash.
    """
    if via not in PASSWORD_SET_WAYS:
        raise TypeError(f"Not a way of setting a password: {via}")
    user = lock_account(user)  # the one lock order (kernel.locks)
    _set_password(user, password)
    user.save(update_fields=["password"])
    record(
        action="account.password_set",
        actor=actor,
        target=user,
        after={"email": user.email, "usable_password": user.has_usable_password(), "via": via},
    )
    return user


def _set_password(user: User, password: str | None) -> None:
    """Set a checked password on ``user`` (not saved), or an unusable one for None."""
    if password is None:
        user.set_unusable_password()
        return
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise RuleViolation(exc.messages) from exc
    user.set_password(password)


# --- staff and operators ---------------------------------------------------------------------------

# What staff may change on an account's page (is_active goes through workspaces.people.deactivation,
# which keeps every workspace's last active owner; the password through account_password_set).
STAFF_FIELDS = frozenset({"email", "full_name", "email_verified_at", "is_staff", "is_superuser"}) | PROFILE_FIELDS
TAKEN_MESSAGE = "An account with this e-mail address already exists."


def clean_new_email(email: str, *, excluding: User | None = None) -> str:
    """The normalised address, or RuleViolation: not an address, or another account's (any letter case)."""
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError as exc:
        raise RuleViolation(f"“{email}” is not a valid e-mail address.") from exc
    others = User.objects.filter(email__iexact=email)
    if excluding is not None:
        others = others.exclude(pk=excluding.pk)
    if others.exists():
        raise RuleViolation(TAKEN_MESSAGE if excluding is None else "Another account has this e-mail address.")
    return email


@transaction.atomic
def account_create(*, actor, email: str, password: str | None = None) -> User:
    """An account made for someone (by staff, or by ``create_workspace``), not a sign-up.

    With no password the account has an unusable one: the person chooses theirs through the
    password-reset e-mail. Refuses an address already registered in any letter case.
    """
    user = User(email=clean_new_email(email))
    _set_password(user, password)
    try:
        # A savepoint: a concurrent creation of the same address (the case-insensitive unique
        # constraint) becomes the same refusal.
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise RuleViolation(TAKEN_MESSAGE) from exc
    record(
        action="account.create",
        actor=actor,
        target=user,
        after={"email": user.email, "usable_password": user.has_usable_password()},
    )
    return user


def _permission_names(user: User) -> list[str]:
    rows = user.user_permissions.values_list("content_type__app_label", "codename")
    return sorted(f"{app_label}.{codename}" for app_label, codename in rows)


@transaction.atomic
def account_update(*, actor, user: User, changes: dict, permissions=None) -> User:
    """Staff change an account's fields (``STAFF_FIELDS``) and, unless ``permissions`` is None, its
    admin permissions (Django ``Permission`` rows; for the admin only, no workspace rule applies).

    One event with the fields that changed, before and after; none when nothing changed.
    """
    unknown = set(changes) - STAFF_FIELDS
    if unknown:
        raise TypeError(f"Not an account field staff change here: {', '.join(sorted(unknown))}")
    user = lock_account(user)  # the one lock order (kernel.locks)
    if "email" in changes:
        changes = {**changes, "email": clean_new_email(changes["email"], excluding=user)}
    if "full_name" in changes:
        changes = {**changes, "full_name": (changes["full_name"] or "").strip()}
    changed = {name: value for name, value in changes.items() if getattr(user, name) != value}
    before = {name: getattr(user, name) for name in changed}
    after = dict(changed)
    if permissions is not None:
        old, wanted = _permission_names(user), list(permissions)
        user.user_permissions.set(wanted)
        new = _permission_names(user)
        if new != old:
            before["user_permissions"], after["user_permissions"] = old, new
    if not before:
        return user
    for name, value in changed.items():
        setattr(user, name, value)
    if changed:
        user.save(update_fields=sorted(changed))
    record(action="account.update", actor=actor, target=user, before=before, after=after)
    return user


@transaction.atomic
def account_delete(*, actor, user: User) -> None:
    """Delete an account that belongs to no workspace.

    A member's account is refused: removing them from a workspace goes through that workspace's
    rules (the last owner stays, site owners are replaced), and deactivating keeps their history.
    """
    user = lock_account(user)  # the one lock order (kernel.locks)
    memberships = list(Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name"))
    if memberships:
        names = ", ".join(f"“{m.workspace.name}”" for m in memberships)
        raise RuleViolation(
            f"{user.email} is a member of {names}: remove them from those workspaces first, "
            "or deactivate the account instead."
        )
    record(action="account.delete", actor=actor, target=user, before={"email": user.email})
    user.delete()
