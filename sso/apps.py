from django.apps import AppConfig


class SSOConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import sign_in_realm

        from . import saml_keys  # noqa: F401 - registers its system check
        from .discovery import send_to_identity_provider
        from .sessions import forget

        # An address at a domain bound to an enabled connection signs in at its identity provider.
        sign_in_realm.connect(send_to_identity_provider, dispatch_uid="sso.realm_discovery")
        # Every sign-in starts unmarked; the adapter marks a single sign-on after Django's login.
        user_logged_in.connect(forget, dispatch_uid="sso.forget_session_mark")
