"""Every write of two-factor authentication: a person's own devices, and a workspace's requirement.

Each change writes one audit event, without secrets (never a key, a code or a backup code). A
person's own changes are account events (no workspace). Codes are checked before the change's
transaction starts (see ``devices.verify_code``), so a wrong code changes nothing but django-otp's
count of failed attempts.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import User
from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import lock_account, lock_workspace
from permissions.policy import require
from twofactor.selectors import requiring_workspaces
from workspaces.models import Workspace

from . import devices, passkeys
from .models import WorkspaceSecurity

ALREADY_ON = "Two-factor authentication is already on for your account."
NOT_ON = "Two-factor authentication is not on for your account."
SET_UP_FIRST = "Set up two-factor authentication for yourself first, so that requiring it cannot lock you out."


def _lock_user(user: User) -> User:
    # Device changes of one person serialise on their account row, so that two set-ups (or a
    # set-up and a turn-off) at the same moment leave one consistent state.
    # Through the portal's lock helpers, so the one lock order (kernel.locks) holds here too.
    return lock_account(user)


def _new_backup_codes(user: User) -> list[str]:
    """Replace the person's backup codes with fresh ones and return them (shown once)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": devices.BACKUP_DEVICE_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(devices.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


# --- a person's own two-factor authentication -------------------------------------------------------


def two_factor_setup_start(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator-app device whose secret the set-up page shows.

    The same one comes back until it is confirmed, so reloading the page keeps the QR code the
    person may already have scanned. Not audited: nothing about the account changes until the
    person proves with a code that their app works (``two_factor_confirm``).
    """
    with transaction.atomic():
        _lock_user(user)
        if devices.has_two_factor(user):
            raise RuleViolation(ALREADY_ON)
        return devices.pending_app_device(user) or TOTPDevice.objects.create(
            user=user, name=devices.APP_DEVICE_NAME, confirmed=False
        )


def two_factor_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Turn two-factor authentication on with the device being set up, once ``token`` shows the
    person's app computes its codes. Returns the new backup codes, to be shown once."""
    if device.user_id != user.pk or device.confirmed:
        raise RuleViolation("This set-up is no longer open. Start again.")
    devices.verify_pending_code(device, token)
    with transaction.atomic():
        _lock_user(user)
        if devices.has_two_factor(user):
            raise RuleViolation(ALREADY_ON)
        # Other unfinished set-ups (another tab) end here: their secrets were never confirmed.
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_backup_codes(user)
        record(
            action="account.two_factor_enable",
            actor=user,
            target=user,
            before={"two_factor": False},
            after={"two_factor": True, "backup_codes": len(codes)},
        )
    return codes


def backup_codes_regenerate(*, user: User, token: str) -> list[str]:
    """New backup codes in place of the old ones (all of which stop working); ``token`` is a
    current code or a backup code."""
    if not devices.has_two_factor(user):
        raise RuleViolation(NOT_ON)
    devices.verify_code(user, token)
    with transaction.atomic():
        _lock_user(user)
        before = devices.backup_codes_left(user)
        codes = _new_backup_codes(user)
        record(
            action="account.backup_codes_regenerate",
            actor=user,
            target=user,
            before={"backup_codes": before},
            after={"backup_codes": len(codes)},
        )
    return codes


def _refuse_while_required(user: User) -> None:
    names = [workspace.name for workspace in requiring_workspaces(user)]
    if names:
        raise RuleViolation(
            f"You cannot turn two-factor authentication off: {', '.join(names)} "
            f"require{'s' if len(names) == 1 else ''} it of every member."
        )


def two_factor_disable(*, user: User, token: str) -> None:
    """Turn two-factor authentication off (app and backup codes); ``token`` is a current code or
    a backup code. Refused while a workspace the person belongs to requires it."""
    if not devices.has_two_factor(user):
        raise RuleViolation(NOT_ON)
    _refuse_while_required(user)  # before the code is checked, so that no backup code is used up
    devices.verify_code(user, token)
    with transaction.atomic():
        _lock_user(user)
        _refuse_while_required(user)  # again under the lock: a workspace may have just turned it on
        _remove_devices(user)
        record(
            action="account.two_factor_disable",
            actor=user,
            target=user,
            before={"two_factor": True},
            after={"two_factor": False},
        )


def _remove_devices(user: User) -> None:
    # Passkeys are second-factor devices too: with two-factor authentication off they go as well.
    WebAuthnCredential.objects.filter(user=user).delete()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def two_factor_reset(*, actor: User, user: User) -> bool:
    """Staff turn a person's two-factor authentication off (a lost phone and lost backup codes),
    so the person can sign in with their password and set it up again. False when it was off."""
    _lock_user(user)
    if not (
        TOTPDevice.objects.filter(user=user).exists()
        or StaticDevice.objects.filter(user=user).exists()
        or WebAuthnCredential.objects.filter(user=user).exists()
    ):
        return False
    had_two_factor = devices.has_two_factor(user)
    _remove_devices(user)
    record(
        action="account.two_factor_reset",
        actor=actor,
        target=user,
        before={"two_factor": had_two_factor},
        after={"two_factor": False},
    )
    return True


# --- passkeys --------------------------------------------------------------------------------------

PASSKEY_NEEDS_TWO_FACTOR = (
    "Set up two-factor authentication with an authenticator app first; a passkey is added next to it."
)
PASSKEY_NAME_NEEDED = "Give the passkey a name, such as the device it is on."


def _clean_passkey_name(name: str) -> str:
    """The name as shown in the list: control characters dropped, spaces folded, 64 characters."""
    text = "".join(" " if ch.isspace() else ch for ch in str(name or "") if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[: passkeys.NAME_MAX_LENGTH]


def passkey_add(*, user: User, name: str, state: dict, data: dict) -> WebAuthnCredential:
    """Add the passkey the browser just made (``data``, answering the challenge in ``state``),
    under ``name``. Refused without two-factor authentication on: a passkey is a second factor
    next to the authenticator app. The view checks the sign-in is recent. One audit event, with
    the name only (never the key)."""
    name = _clean_passkey_name(name)
    if not name:
        raise RuleViolation(PASSKEY_NAME_NEEDED)
    with transaction.atomic():
        _lock_user(user)
        if not devices.has_two_factor(user):
            raise RuleViolation(PASSKEY_NEEDS_TWO_FACTOR)
        device = passkeys.register_verify(user, state, data)
        device.name = name
        device.save(update_fields=["name"])
        record(
            action="account.passkey_add",
            actor=user,
            target=user,
            before={},
            after={"passkey": name, "passkeys": WebAuthnCredential.objects.filter(user=user).count()},
        )
    return device


@transaction.atomic
def passkey_remove(*, user: User, passkey: WebAuthnCredential) -> None:
    """Remove one of the person's own passkeys (the page finds it among theirs only: any other
    id is a 404 there). It stops working at once."""
    if passkey.user_id != user.pk:
        raise RuleViolation("This passkey is not yours.")
    _lock_user(user)
    name = passkey.name
    if not WebAuthnCredential.objects.filter(pk=passkey.pk).delete()[0]:
        return  # removed meanwhile (another tab): nothing to record
    record(
        action="account.passkey_remove",
        actor=user,
        target=user,
        before={"passkey": name},
        after={"passkeys": WebAuthnCredential.objects.filter(user=user).count()},
    )


# --- a workspace's requirement ----------------------------------------------------------------------


@transaction.atomic
def two_factor_requirement_set(*, actor: User | None, workspace: Workspace, required: bool) -> WorkspaceSecurity:
    """Require two-factor authentication of every member of ``workspace``, or stop requiring it.

    Turning it on is refused unless the person doing it has two-factor authentication: that is
    what keeps them from locking themselves out. Nothing is written when nothing changes.
    """
    require(actor, "manage_two_factor_policy", workspace)
    if required and actor is not None and not devices.has_two_factor(actor):
        raise RuleViolation(SET_UP_FIRST)
    lock_workspace(workspace)
    security, _ = WorkspaceSecurity.objects.get_or_create(workspace=workspace)
    if security.two_factor_required == required:
        return security
    before = {"two_factor_required": security.two_factor_required}
    security.two_factor_required = required
    security.changed_by = actor
    security.changed_at = timezone.now()
    security.save(update_fields=["two_factor_required", "changed_by", "changed_at"])
    record(
        action="workspace.two_factor_required",
        actor=actor,
        workspace=workspace,
        target=workspace,
        before=before,
        after={"two_factor_required": required},
    )
    return security
