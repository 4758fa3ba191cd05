"""The public single sign-on URLs: the OpenID Connect callback, /sso/oidc/<provider_id>/login/callback/,
and a SAML connection's assertion consumer service and metadata, /sso/saml/<provider_id>/….

Not namespaced: allauth's OpenID Connect adapter builds the redirect URI by reversing
``openid_connect_callback``. allauth's login view and account pages are deliberately not routed:
a sign-in starts only from the portal's sign-in page (``sso.discovery``)."""

from django.urls import path

from . import oidc, saml

urlpatterns = [
    path("oidc/<str:provider_id>/login/callback/", oidc.callback, name="openid_connect_callback"),
    # SAML 2.0: the assertion consumer service and the service provider's metadata (sso/saml.py).
    path("saml/<str:provider_id>/acs/", saml.acs, name="sso_saml_acs"),
    path("saml/<str:provider_id>/acs/finish/", saml.acs_finish, name="sso_saml_acs_finish"),
    path("saml/<str:provider_id>/metadata/", saml.metadata, name="sso_saml_metadata"),
]
