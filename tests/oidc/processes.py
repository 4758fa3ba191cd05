"""Start the test identity providers as real processes on 127.0.0.1 (each picks a free port) and
stop them afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


@contextmanager
def running(command: list[str], env: dict[str, str] | None = None):
    """Run ``command``, read the issuer from its first line, yield it, and stop the process."""
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{command[:2]} did not start")
        yield json.loads(line)["issuer"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def hostile_idp():
    return running([sys.executable, str(HERE / "hostile_idp.py")])


def oidc_provider_idp(*, client_id: str, client_secret: str, redirect_prefix: str):
    """The oidc-provider identity provider (npm); needs ``npm ci`` (node_modules/oidc-provider)."""
    env = {"CLIENT_ID": client_id, "CLIENT_SECRET": client_secret, "REDIRECT_PREFIX": redirect_prefix}
    return running(["node", str(HERE / "idp.mjs")], env)
