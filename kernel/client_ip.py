"""The client's address, for sign-in throttling (django-axes) and the audit log.

Behind ``PROXY_COUNT`` trusted reverse proxies, each proxy appends the address it received the
request from to ``X-Forwarded-For``, so the client is the ``PROXY_COUNT``-th entry from the right;
anything further left was written by the client and cannot be trusted. With no proxy the header is
ignored altogether, so nobody can dodge the throttle or forge the audit log by sending it.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "PROXY_COUNT", 0)
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
