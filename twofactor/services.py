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
APP_ALREADY_ON = "Two-factor authentication with an authenticator app is already on for your account."
NOT_ON = "Two-factor authentication is not on for your account."
SET_UP_FIRST = "Set up two-factor authentication for yourself first, so that requiring it cannot lock you out."


def _lock_user(user: User) -> User:
    # Device changes of one person serialise on their account row, so that two set-ups (or a
    # set-up and a turn-off) at the same moment leave one consistent state.
    # Through the portal's lock helpers, so the one lock order (kernel.locks) holds here too.
    return lock_account(user)


def _first_backup_codes(user: User) -> list[str]:
    """Backup codes for a person's first second factor (shown once); none when they have some:
    a second factor added next to the first keeps the codes the person saved."""
    if devices.backup_codes_left(user):
        return []
    return _new_backup_codes(user)


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
    person proves with a code that their app works (``two_factor_confirm``). A person whose only
    second factor is a passkey may set up an app next to it.
    """
    with transaction.atomic():
        _lock_user(user)
        if devices.has_app(user):
            raise RuleViolation(APP_ALREADY_ON)
        return devices.pending_app_device(user) or TOTPDevice.objects.create(
            user=user, name=devices.APP_DEVICE_NAME, confirmed=False
        )


def two_factor_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Turn two-factor authentication on with the device being set up, once ``token`` shows the
    person's app computes its codes. Returns the new backup codes, to be shown once: made with
    the first second factor only (a person who has a passkey already keeps their codes: [])."""
    if device.user_id != user.pk or device.confirmed:
        raise RuleViolation("This set-up is no longer open. Start again.")
    devices.verify_pending_code(device, token)
    with transaction.atomic():
        _lock_user(user)
        if devices.has_app(user):
            raise RuleViolation(APP_ALREADY_ON)
        had_two_factor = devices.has_two_factor(user)
        # Other unfinished set-ups (another tab) end here: their secrets were never confirmed.
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _first_backup_codes(user)
        record(
            action="account.two_factor_enable",
            actor=user,
            target=user,
            before={"two_factor": had_two_factor},
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


def _refuse_while_required(user: User, what: str = "turn two-factor authentication off", it: str = "it") -> None:
    names = [workspace.name for workspace in requiring_workspaces(user)]
    if names:
        raise RuleViolation(
            f"You cannot {what}: {', '.join(names)} require{'s' if len(names) == 1 else ''} {it} of every member."
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

PASSKEY_NAME_NEEDED = "Give the passkey a name, such as the device it is on."


def _clean_passkey_name(name: str) -> str:
    """The name as shown in the list: control characters dropped, spaces folded, 64 characters."""
    text = "".join(" " if ch.isspace() else ch for ch in str(name or "") if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[: passkeys.NAME_MAX_LENGTH]


def passkey_add(*, user: User, name: str, state: dict, data: dict) -> tuple[WebAuthnCredential, list[str]]:
    """Add the passkey the browser just made (``data``, answering the challenge in ``state``),
    under ``name``: (the passkey, new backup codes to show once).

    A passkey is a second factor of its own: the first one turns two-factor authentication on,
    and comes with backup codes as an authenticator app does; next to an app or other passkeys
    it adds none ([]). The view checks the sign-in is recent, and, for a person who has a second
    factor already, that this session proved it. One audit event, with the name only (never the
    key)."""
    name = _clean_passkey_name(name)
    if not name:
        raise RuleViolation(PASSKEY_NAME_NEEDED)
    with transaction.atomic():
        _lock_user(user)
        had_two_factor = devices.has_two_factor(user)
        device = passkeys.register_verify(user, state, data)
        device.name = name
        device.save(update_fields=["name"])
        codes = _first_backup_codes(user)
        after = {"passkey": name, "passkeys": WebAuthnCredential.objects.filter(user=user).count()}
        if not had_two_factor:
            after.update(two_factor=True, backup_codes=len(codes))
        record(
            action="account.passkey_add",
            actor=user,
            target=user,
            before={} if had_two_factor else {"two_factor": False},
            after=after,
        )
    return device, codes


LAST_PASSKEY = "remove your last passkey"


@transaction.atomic
def passkey_remove(*, user: User, passkey: WebAuthnCredential) -> None:
    """Remove one of the person's own passkeys (the page finds it among theirs only: any other
    id is a 404 there). It stops working at once.

    The last second factor goes as turning two-factor authentication off does: refused while a
    workspace the person belongs to requires it, and otherwise with the backup codes, which
    belong to two-factor authentication as a whole."""
    if passkey.user_id != user.pk:
        raise RuleViolation("This passkey is not yours.")
    _lock_user(user)
    name = passkey.name
    last = devices.is_last_factor(user, passkey)
    if last:
        _refuse_while_required(user, LAST_PASSKEY, "two-factor authentication")
    if not WebAuthnCredential.objects.filter(pk=passkey.pk).delete()[0]:
        return  # removed meanwhile (another tab): nothing to record
    after = {"passkeys": WebAuthnCredential.objects.filter(user=user).count()}
    before = {"passkey": name}
    if last:
        StaticDevice.objects.filter(user=user).delete()
        before["two_factor"], after["two_factor"] = True, False
    record(action="account.passkey_remove", actor=user, target=user, before=before, after=after)


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
