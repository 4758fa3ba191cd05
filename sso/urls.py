"""The one public single sign-on URL: the identity provider's callback, /sso/oidc/<provider_id>/login/callback/.

Not namespaced: allauth's OpenID Connect adapter builds the redirect URI by reversing
``openid_connect_callback``. allauth's login view and account pages are deliberately not routed:
a sign-in starts only from the portal's sign-in page (``sso.discovery``)."""

from django.urls import path

from . import oidc

urlpatterns = [
    path("oidc/<str:provider_id>/login/callback/", oidc.callback, name="openid_connect_callback"),
]
