from django.utils.functional import SimpleLazyObject

from audit.context import request_ip
from kernel.client_ip import client_ip

from .policy import Access


def _request_access(request) -> Access:
    """The request's Access, also handed to the signed-in person so that the services called with
    ``actor=request.user`` reuse what the page already loaded (``policy.access_of``)."""
    access = Access(request.user)
    if request.user.is_authenticated:
        request.user.request_access = access
    return access


class AccessMiddleware:
    """Gives each request a fresh ``request.access`` (so checks are cached for one request only),
    and remembers the client address for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = SimpleLazyObject(lambda: _request_access(request))
        token = request_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)
