"""Settings for the test suite: fast hashing, mail kept in memory, no throttling surprises."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
PORTAL_BASE_URL = "http://testserver"

# The suite builds workspaces of every size on the first plan; the tests of the plan limits
# (tests/test_plan_limits.py) set the limits they test. Every other plan is as in production.
BILLING_PLANS = [
    {**BILLING_PLANS[0], "limits": {**BILLING_PLANS[0]["limits"], "sites": None, "members": None}},  # noqa: F405
    *BILLING_PLANS[1:],  # noqa: F405
]

# Suites call the API thousands of times a minute from one address; tests/test_api_rate_limits.py
# sets the limits it tests.
API_RATE_LIMIT_PER_KEY = API_RATE_LIMIT_PER_CLIENT = API_BAD_KEY_LIMIT_PER_CLIENT = "1000000/m"
# The bundled test identity provider runs on 127.0.0.1 over plain HTTP.
SSO_ALLOW_HTTP_ISSUER = True
# Tasks run at once, in the test's process, as with `make run` (a failed task is kept as a task
# result; a retry runs again at once). The tests that start a real worker
# (tests/test_celery_worker.py) give it a broker of its own.
CELERY_BROKER_URL = IN_PROCESS_BROKER  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True  # the tests' receiver listens on 127.0.0.1

# PostgreSQL: the test database is thrown away after the run, so a commit need not wait for the
# disk (synchronous_commit=off; the data is as consistent and as visible to other connections, only
# not durable across a crash of the server). Commits are what the transactional tests, the races and
# the real Celery worker's tests do all the time, and every flush between them is one more.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
