"""Local development: debug on, mail printed to the console."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# The bundled test identity provider runs on 127.0.0.1 over plain HTTP.
SSO_ALLOW_HTTP_ISSUER = True
