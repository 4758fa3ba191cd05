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
    "CACHE_URL": "redis://127.0.0.1:6379/1",
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
    result = check_deploy(**{name: value for name, value in REQUIRED.items() if name != "CELERY_BROKER_URL"})
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


def test_refuses_to_start_without_a_cache_url():
    result = check_deploy(SECRET_KEY=REQUIRED["SECRET_KEY"], ALLOWED_HOSTS=REQUIRED["ALLOWED_HOSTS"])
    assert result.returncode != 0
    assert "CACHE_URL" in result.stderr


def test_refuses_a_cache_the_workers_do_not_share():
    """Each gunicorn worker would count API requests in its own memory: the limits would not hold."""
    result = check_deploy(**{**REQUIRED, "CACHE_URL": "locmemcache://"})
    assert result.returncode != 0
    assert "django_ratelimit.E003" in result.stdout + result.stderr


def passkey_settings(**variables: str) -> dict:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    env.update(variables)
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.PASSKEY_RP_ID, s.PASSKEY_ORIGIN, s.OTP_WEBAUTHN_RP_ID, s.OTP_WEBAUTHN_ALLOWED_ORIGINS]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings.production"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result


def test_passkeys_default_to_the_first_allowed_host_over_https():
    result = passkey_settings(**REQUIRED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '["portal.example.org", "https://portal.example.org", "portal.example.org", ["https://portal.example.org"]]'
    )


def test_passkeys_read_their_variables():
    result = passkey_settings(**REQUIRED, PASSKEY_RP_ID="example.org", PASSKEY_ORIGIN="https://portal.example.org")
    assert result.stdout.strip().splitlines()[-1] == (
        '["example.org", "https://portal.example.org", "example.org", ["https://portal.example.org"]]'
    )


@pytest.mark.parametrize(
    "variables",
    [{"PASSKEY_ORIGIN": "http://portal.example.org"}, {"ALLOWED_HOSTS": "*"}],
    ids=["plain-http-origin", "wildcard-host"],
)
def test_refuses_passkeys_it_could_not_serve(variables):
    result = check_deploy(**{**REQUIRED, **variables})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "PASSKEY_" in result.stderr


@pytest.mark.parametrize(
    ("variables", "queue"), [({}, "celery"), ({"CELERY_TASK_DEFAULT_QUEUE": "portal-b"}, "portal-b")]
)
def test_the_celery_queue_is_the_one_its_variable_names(variables, queue):
    """Two portals sharing one broker keep their tasks apart: the web server, the worker and beat
    all read the queue from CELERY_TASK_DEFAULT_QUEUE."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    code = "import django; django.setup(); from portal.celery import app; print(app.conf.task_default_queue)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**env, **REQUIRED, **variables, "DJANGO_SETTINGS_MODULE": "portal.settings.production"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == queue
