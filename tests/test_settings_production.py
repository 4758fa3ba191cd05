"""Production settings: Django's deployment checklist passes, and missing secrets stop the start.

Each case runs ``manage.py check --deploy`` in a fresh process, because settings are read once per
process and production refuses to import at all without its variables.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
REQUIRED = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "portal.example.org",
    "CELERY_BROKER_URL": "amqp://portal:secret@127.0.0.1:5672/portal",
}


def check_deploy(**variables: str) -> subprocess.CompletedProcess:
    # A clean environment, not a copy of this one: the test process carries variables that
    # production would rightly refuse (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
        + ["--settings=portal.settings.production"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def no_dotenv_secrets():
    """A developer's .env could supply the variables these tests leave out."""
    dotenv = BASE_DIR / ".env"
    if dotenv.exists() and any(name in dotenv.read_text() for name in REQUIRED):
        pytest.skip(".env sets SECRET_KEY or ALLOWED_HOSTS; these tests need them unset")


def test_deploy_check_passes_without_warnings():
    result = check_deploy(**REQUIRED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_deploy_check_warns_when_mail_would_be_sent_inside_requests():
    result = check_deploy(SECRET_KEY=REQUIRED["SECRET_KEY"], ALLOWED_HOSTS=REQUIRED["ALLOWED_HOSTS"])
    assert result.returncode != 0
    assert "portal.W001" in result.stdout + result.stderr
    assert "CELERY_BROKER_URL is not set" in result.stdout + result.stderr


def test_refuses_to_start_without_secret_key():
    result = check_deploy(ALLOWED_HOSTS=REQUIRED["ALLOWED_HOSTS"])
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("weak", ["short", "insecure-" + "x" * 60])
def test_refuses_a_weak_secret_key(weak):
    result = check_deploy(SECRET_KEY=weak, ALLOWED_HOSTS=REQUIRED["ALLOWED_HOSTS"])
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("hosts", [None, ""])
def test_refuses_to_start_without_allowed_hosts(hosts):
    variables = {"SECRET_KEY": REQUIRED["SECRET_KEY"]}
    if hosts is not None:
        variables["ALLOWED_HOSTS"] = hosts
    result = check_deploy(**variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ALLOWED_HOSTS" in result.stderr
