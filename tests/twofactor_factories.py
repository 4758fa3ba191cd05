"""Two-factor state for tests, made through the services (task "twofactor"), and the codes an
authenticator app would show, computed from the device's secret."""

from __future__ import annotations

import time
from base64 import b32decode

from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from twofactor.services import two_factor_confirm, two_factor_requirement_set, two_factor_setup_start


def app_code(key: bytes, *, after: int = -1, drift: int = 0, step: int = 30, t0: int = 0, digits: int = 6) -> str:
    """The code an app holding ``key`` shows now, or the first one after time step ``after`` (a
    code is accepted once: the next one must be of a later step; the server allows one step of
    clock difference, so the next step's code is accepted at once)."""
    now = (int(time.time()) - t0) // step + drift
    return f"{hotp(key, max(now, after + 1), digits):0{digits}d}"


def code_for(device: TOTPDevice) -> str:
    """The next code the device accepts, from its current state in the database."""
    device.refresh_from_db()
    return app_code(device.bin_key, after=device.last_t, drift=device.drift, step=device.step, t0=device.t0)


def key_from_manual_entry(text: str) -> bytes:
    """The secret from the key the set-up page shows for typing into an app."""
    secret = text.replace(" ", "").upper()
    return b32decode(secret + "=" * (-len(secret) % 8))


def enable_two_factor(user) -> tuple[TOTPDevice, list[str]]:
    """Two-factor authentication on for ``user``: (the app device, the backup codes)."""
    device = two_factor_setup_start(user=user)
    codes = two_factor_confirm(user=user, device=device, token=code_for(device))
    return device, codes


def make_two_factor(workspace, owner) -> None:
    """The owner with two-factor authentication, and the workspace requiring it (admin world)."""
    enable_two_factor(owner)
    two_factor_requirement_set(actor=owner, workspace=workspace, required=True)
