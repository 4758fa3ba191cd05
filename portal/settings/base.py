"""Settings shared by every environment.

Everything that differs between environments is read from the environment through one
django-environ ``env``; local, test and production modules only change defaults.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-do-not-use-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal",  # project-wide hooks (ASCII-only ids)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Passkeys (WebAuthn credentials as django-otp devices), twofactor/passkeys.py
    "django_otp_webauthn",
    "accounts",
    "workspaces",
    "permissions",
    "audit",
    "workspace_settings",
    "billing",
    "privacy",
    "twofactor",
    "ninja",  # the API's docs page (Swagger UI) from static files
    "django_ratelimit",  # its system checks refuse a cache that worker processes do not share
    # Single sign-on through each workspace's OpenID Connect identity provider (sso/oidc.py). allauth's
    # socialaccount needs allauth.account installed; its account pages are not routed (portal/urls.py).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "sso",
    "scim",
    # Background tasks (mail, periodic jobs): those that failed, listed in the admin.
    "background",
    # Events of every audited change (an outbox) and their delivery to the workspaces' webhook endpoints.
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (CONTENT_SECURITY_POLICY) and Permissions-Policy (PERMISSIONS_POLICY) on
    # every response.
    "csp.middleware.CSPMiddleware",
    "portal.headers.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The API's operations (a key, not a session, authenticates them) are called from here, past
    # the session middleware below (portal/sessionless.py).
    "portal.sessionless.SessionlessMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether a two-factor code was accepted in this session.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Times in the person's chosen zone (else UTC; a workspace's pages use the workspace's).
    "accounts.middleware.TimeZoneMiddleware",
    "permissions.middleware.AccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After sign-in, access and messages: leads people to the two-factor page they owe.
    "twofactor.middleware.TwoFactorMiddleware",
    # After it (it reads the membership): a workspace that requires single sign-on sends other
    # sessions of members at its connections' domains to its identity provider.
    "sso.middleware.RequiredSSOMiddleware",
    # Required by allauth's socialaccount (the single sign-on callback).
    "allauth.account.middleware.AccountMiddleware",
    # Last, so that it sees the outcome of authentication attempts.
    "axes.middleware.AxesMiddleware",
]

# The browser runs only the portal's own scripts and styles (no inline script or style anywhere, the
# admin's included), shows no plugin, frames no page, and sends forms only to the portal.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features no portal page uses, turned off for the portal and anything it could embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # ``|when``: every time shown says its zone (portal/templatetags/when.py).
            "builtins": ["portal.templatetags.when"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite is the embedded default. IMMEDIATE transactions take the write lock at BEGIN, so
# concurrent writers queue behind each other instead of failing with "database is locked"
# half-way through a transaction.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# auth.W004 asks for unique=True on User.email. The address is unique case-insensitively through
# the accounts_user_email_ci_unique constraint instead, which that check does not look at.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Argon2id first (Django's Argon2 hasher, with the parameters in accounts/hashers.py): new passwords
# get it, and Django re-hashes an older hash at its owner's next sign-in. PBKDF2 stays after it so
# that hashes made before still verify. benchmarks/hashing.py compares their cost.
PASSWORD_HASHERS = [
    "accounts.hashers.PortalArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Guardian: no anonymous user object; permissions are for signed-in members only.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_AUTO_PREFETCH = False

# Failed sign-ins are throttled per address and username (django-axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "kernel.client_ip.client_ip"
# Masked in the failed attempts axes stores: ``next`` may be an invitation's page, whose address is
# the invitation's secret token (axes' own defaults, username and ip_address, stay masked too).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "next"]
# Sign-up and password-reset requests allowed per hour, per address and per client address
# (accounts/throttle.py; counted in the database, so they hold across worker processes).
SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR = env.int("SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR", default=3)
SIGNUP_LIMIT_PER_CLIENT_PER_HOUR = env.int("SIGNUP_LIMIT_PER_CLIENT_PER_HOUR", default=20)
PASSWORD_RESET_LIMIT_PER_ADDRESS_PER_HOUR = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS_PER_HOUR", default=3)
PASSWORD_RESET_LIMIT_PER_CLIENT_PER_HOUR = env.int("PASSWORD_RESET_LIMIT_PER_CLIENT_PER_HOUR", default=20)
# Trusted reverse proxies in front of the portal (see kernel/client_ip.py).
PROXY_COUNT = env.int("PROXY_COUNT", default=0)

# The cache holds the API's rate-limit counters, so in production every worker process must share
# it: Redis (``redis://127.0.0.1:6379/1``, through django-redis). The default, one process's memory,
# only suits ``make run`` and the tests; production settings refuse to start without CACHE_URL.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
LOCAL_CACHE_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    SILENCED_SYSTEM_CHECKS += LOCAL_CACHE_CHECKS
# Requests each access key may make to /api/v1/, requests from one client address (with any key or
# none), and attempts with a missing, wrong or revoked key from one client address. Rates are
# "<count>/<s|m|h>"; a request past a limit gets 429 with Retry-After (permissions/api_limits.py).
API_RATE_LIMIT_PER_KEY = env("API_RATE_LIMIT_PER_KEY", default="1200/m")
API_RATE_LIMIT_PER_CLIENT = env("API_RATE_LIMIT_PER_CLIENT", default="2400/m")
API_BAD_KEY_LIMIT_PER_CLIENT = env("API_BAD_KEY_LIMIT_PER_CLIENT", default="20/m")
# Seconds a check API answer stays in the cache, under its workspace's access version, which any
# change to the workspace's access replaces at once (permissions/check_cache.py); 0: no cache.
API_CHECK_CACHE_SECONDS = env.int("API_CHECK_CACHE_SECONDS", default=300)

# Mail: console locally, SMTP (or anything django-environ understands) through EMAIL_URL.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work (portal/celery.py): mail leaves the request through a queue (kernel/mail.py) and
# the periodic jobs run on Celery beat. CELERY_BROKER_URL names the broker: RabbitMQ in production
# (amqp://user:password@host:5672/vhost), Redis as an alternative (redis://host:6379/2). Without
# it, as with `make run`, every task runs at once in the process that queues it (Celery still
# opens a producer then: the in-memory transport keeps it from looking for a broker).
IN_PROCESS_BROKER = "memory://localhost/"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or IN_PROCESS_BROKER
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == IN_PROCESS_BROKER
# The queue the web server, beat and the worker share (one broker may serve several portals).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_IMPORTS = ["kernel.mail"]
# No result is kept: a task that fails for good is written to background.FailedTask (the admin's
# "Failed tasks"), without its arguments, by Celery's task_failure signal.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = None  # no results, so beat needs no daily clean-up job for them
# A worker takes one task at a time per process and acknowledges it when done, so a worker that
# dies mid-task leaves it on the queue for another.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The schedule of the periodic jobs (beat, UTC). Each runs the function its command runs.
CELERY_BEAT_SCHEDULE = {
    "verify-domains": {
        # manage.py verify_domains: suspend join domains whose DNS record is gone, restore those back
        "task": "workspaces.verify_domains",
        "schedule": crontab(minute=15, hour=3),
    },
    "purge-expired-invites": {
        # manage.py purge_expired_invites: invitations whose link expired more than 30 days ago
        "task": "workspaces.purge_expired_invites",
        "schedule": crontab(minute=45, hour=3),
    },
    "sync-permissions-check": {
        # manage.py sync_permissions --check: fails (shown in the admin) when stored permissions drifted
        "task": "permissions.sync_permissions_check",
        "schedule": crontab(minute=0, hour="*/6"),
    },
    "webhooks-deliver-due": {
        # webhook deliveries whose next try is due (a retry, or a task lost with a broker restart)
        "task": "webhooks.deliver_due",
        "schedule": crontab(),  # every minute
    },
    "flush-key-counts": {
        # the check API's call counts per access key and day, from the shared cache into the table
        # that the usage page reads (permissions/key_counts.py; the page also flushes before reading)
        "task": "permissions.flush_key_counts",
        "schedule": crontab(),  # every minute
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / "celerybeat-schedule"))

# Absolute links in e-mails (invites, verification) are built from this.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
EMAIL_VERIFICATION_MAX_AGE = env.int("EMAIL_VERIFICATION_MAX_AGE", default=3 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
INVITE_EXPIRY_DAYS = env.int("INVITE_EXPIRY_DAYS", default=7)
INVITE_LIMIT_PER_INVITER_PER_DAY = env.int("INVITE_LIMIT_PER_INVITER_PER_DAY", default=100)
INVITE_LIMIT_PER_WORKSPACE_PER_DAY = env.int("INVITE_LIMIT_PER_WORKSPACE_PER_DAY", default=200)
INVITE_LIMIT_PER_ADDRESS_PER_DAY = env.int("INVITE_LIMIT_PER_ADDRESS_PER_DAY", default=10)
# The largest file invite_bulk reads (10 MB is about 200,000 addresses).
INVITE_BULK_MAX_BYTES = env.int("INVITE_BULK_MAX_BYTES", default=10_000_000)

# The plan catalogue of the billing pages (read by billing/plans.py). Order is rank: a later plan
# is an upgrade (takes effect at once), an earlier one a downgrade (a request staff handle). The
# first plan is where a new workspace starts and where a cancellation leads. Prices are monthly;
# a limit of None means unlimited.
BILLING_PLANS = [
    {
        "key": "free",
        "name": "Free",
        "monthly_price": "0.00",
        "currency": "EUR",
        "limits": {"sites": 1, "members": 3, "monthly_events": 10_000},
    },
    {
        "key": "growth",
        "name": "Growth",
        "monthly_price": "49.00",
        "currency": "EUR",
        "limits": {"sites": 5, "members": 10, "monthly_events": 500_000},
    },
    {
        "key": "business",
        "name": "Business",
        "monthly_price": "199.00",
        "currency": "EUR",
        "limits": {"sites": 25, "members": 50, "monthly_events": 5_000_000},
    },
    {
        "key": "scale",
        "name": "Scale",
        "monthly_price": "799.00",
        "currency": "EUR",
        "limits": {"sites": None, "members": None, "monthly_events": 50_000_000},
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "public"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

MESSAGE_TAGS = {40: "error"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
ADMIN_URL = env("ADMIN_URL", default="admin/")

# Two-factor authentication (django-otp). When ADMIN_REQUIRE_TWO_FACTOR is true, staff reach the
# admin only with a session verified by a two-factor code.
ADMIN_REQUIRE_TWO_FACTOR = env.bool("ADMIN_REQUIRE_TWO_FACTOR", default=False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Portal")
# Passkeys (WebAuthn, twofactor/passkeys.py). A passkey is bound to the relying-party id, the
# portal's host name without scheme or port; the browser's page must be on PASSKEY_ORIGIN. Browsers
# refuse an IP address as the id, so locally the portal is opened at http://localhost:8000.
PASSKEY_RP_ID = env("PASSKEY_RP_ID", default="localhost")
PASSKEY_ORIGIN = env("PASSKEY_ORIGIN", default="http://localhost:8000")
PASSKEY_RP_NAME = env("PASSKEY_RP_NAME", default="Portal")
# Adding a passkey asks for the password again when the last sign-in is older than this.
PASSKEY_RECENT_SIGN_IN_SECONDS = env.int("PASSKEY_RECENT_SIGN_IN_SECONDS", default=15 * 60)
# django-otp-webauthn reads its own names; they are derived here, never set separately.
OTP_WEBAUTHN_RP_ID = PASSKEY_RP_ID
OTP_WEBAUTHN_RP_NAME = PASSKEY_RP_NAME
OTP_WEBAUTHN_ALLOWED_ORIGINS = [PASSKEY_ORIGIN]
OTP_WEBAUTHN_HELPER_CLASS = "twofactor.passkeys.PasskeyHelper"
# django-otp's own admin would show the authenticator secrets and backup codes; ours never does.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Where join-domain TXT records are looked up: unset means the system's resolver (resolv.conf).
DNS_RESOLVER_NAMESERVERS = env.list("DNS_RESOLVER_NAMESERVERS", default=[]) or None
DNS_RESOLVER_PORT = env.int("DNS_RESOLVER_PORT", default=53)

# Single sign-on (sso/): allauth's socialaccount, with the portal's adapter doing the portal's work
# (apps from sso.Connection rows, sign-in through sso.services). No allauth account is ever created.
SOCIALACCOUNT_ADAPTER = "sso.adapter.SocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("SSO_REQUESTS_TIMEOUT", default=5)
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# An identity provider's issuer must be an https:// URL; a development or test provider on this
# machine may be plain http:// when this is on (local and test settings).
SSO_ALLOW_HTTP_ISSUER = env.bool("SSO_ALLOW_HTTP_ISSUER", default=False)
# The SAML service provider's key pair (sso/saml_keys.py), each PEM text or a PEM file's path; both
# or neither. With it AuthnRequests are signed and encrypted assertions read; without, neither.
SAML_SP_PRIVATE_KEY = env.str("SAML_SP_PRIVATE_KEY", default="")
SAML_SP_CERTIFICATE = env.str("SAML_SP_CERTIFICATE", default="")

# Webhooks (webhooks/): where and how events are delivered. Private, loopback, link-local and
# reserved addresses are refused unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES (development and tests).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=5.0)
WEBHOOKS_READ_TIMEOUT_SECONDS = env.float("WEBHOOKS_READ_TIMEOUT_SECONDS", default=10.0)
# Tries of one event before it is given up, and the wait between them: the base doubling, capped.
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=8)
WEBHOOKS_RETRY_BASE_SECONDS = env.int("WEBHOOKS_RETRY_BASE_SECONDS", default=30)
WEBHOOKS_RETRY_MAX_SECONDS = env.int("WEBHOOKS_RETRY_MAX_SECONDS", default=3600)
# Failed attempts in a row after which an endpoint is switched off and the owners are mailed.
WEBHOOKS_DISABLE_AFTER_FAILURES = env.int("WEBHOOKS_DISABLE_AFTER_FAILURES", default=15)
