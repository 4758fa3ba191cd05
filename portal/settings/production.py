"""Production: every secret comes from the environment; nothing insecure is assumed."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
# No defaults here: production refuses to start without them.
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS to the host names the portal answers on.")
if SECRET_KEY.startswith("insecure-") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")

# The rate limits' counters must be shared by every worker process (see base.py).
CACHES = {"default": env.cache_url("CACHE_URL")}
SILENCED_SYSTEM_CHECKS = [check for check in SILENCED_SYSTEM_CHECKS if check not in LOCAL_CACHE_CHECKS]  # noqa: F405
# Passkeys belong to the portal's public host name, over HTTPS, unless said otherwise.
PASSKEY_RP_ID = env("PASSKEY_RP_ID", default=ALLOWED_HOSTS[0].lstrip("."))
PASSKEY_ORIGIN = env("PASSKEY_ORIGIN", default=f"https://{PASSKEY_RP_ID}")
if "*" in PASSKEY_RP_ID or not PASSKEY_RP_ID:
    raise ImproperlyConfigured("Set PASSKEY_RP_ID to the portal's host name (ALLOWED_HOSTS starts with a wildcard).")
if not PASSKEY_ORIGIN.startswith("https://"):
    raise ImproperlyConfigured("Set PASSKEY_ORIGIN to the portal's https:// address (browsers need it for passkeys).")
OTP_WEBAUTHN_RP_ID = PASSKEY_RP_ID
OTP_WEBAUTHN_ALLOWED_ORIGINS = [PASSKEY_ORIGIN]

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
