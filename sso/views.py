"""Connection pages under the single sign-on settings page. Every page needs ``manage_sso`` (403 for
a member without it, 404 for outsiders and for another workspace's connection ids); the services
check it again on every write. The client secret is never put in a page."""

from __future__ import annotations

import logging

from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View
from requests import RequestException

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.views import WorkspaceActionView, WorkspaceMixin

from . import connection_test, oidc, saml
from .forms import ConnectionForm, GroupMappingForm, SamlConnectionForm
from .models import Connection
from .saml_services import saml_connection_add, saml_connection_update
from .selectors import connection_in, connections_of, sso_required
from .services import (
    connection_add,
    connection_mapping_set,
    connection_remove,
    connection_set_enabled,
    connection_update,
    sso_requirement_set,
)

logger = logging.getLogger(__name__)


def redirect_uri(request, connection: Connection) -> str:
    """What the identity provider must allow as the redirect (callback) URI."""
    return request.build_absolute_uri(reverse("openid_connect_callback", args=[connection.provider_id]))


class IndexView(WorkspaceMixin, TemplateView):
    """The single sign-on page: the workspace's connections and whether single sign-on is required."""

    required_capability = "manage_sso"
    template_name = "sso/index.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sso_connections=connections_of(self.workspace), sso_required=sso_required(self.workspace), **kwargs
        )


class ConnectionMixin(WorkspaceMixin):
    required_capability = "manage_sso"

    @cached_property
    def connection(self) -> Connection:
        return connection_in(self.workspace, self.kwargs["pk"])

    def done_url(self) -> str:
        return reverse("sso:index", args=[self.workspace.slug])


class ConnectionAddView(ConnectionMixin, FormView):
    template_name = "sso/connection_form.html"
    form_class = ConnectionForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "workspace": self.workspace, "access": self.access}

    def form_valid(self, form):
        try:
            added = connection_add(actor=self.request.user, workspace=self.workspace, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, f"“{added.name}” is added. Give its redirect URI to your identity provider.")
        return redirect("sso:edit", self.workspace.slug, added.pk)


class SamlConnectionAddView(ConnectionMixin, FormView):
    template_name = "sso/saml_connection_form.html"
    form_class = SamlConnectionForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "workspace": self.workspace, "access": self.access}

    def form_valid(self, form):
        try:
            added = saml_connection_add(actor=self.request.user, workspace=self.workspace, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(
            self.request, f"“{added.name}” is added. Give its entity ID and ACS URL to your identity provider."
        )
        return redirect("sso:edit", self.workspace.slug, added.pk)


class ConnectionEditView(ConnectionMixin, FormView):
    """Either kind of connection: the form and the page follow the connection's kind."""

    def get_template_names(self):
        return ["sso/saml_connection_form.html" if self.connection.is_saml else "sso/connection_form.html"]

    def get_form_class(self):
        return SamlConnectionForm if self.connection.is_saml else ConnectionForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "workspace": self.workspace, "access": self.access, "editing": True}

    def get_initial(self):
        found = self.connection
        if found.is_saml:
            return {
                "name": found.name,
                "domains": [domain.pk for domain in found.domains.all()],
                "default_role": found.default_role_id,
                "enabled": found.enabled,
                "trust_idp_mfa": found.trust_idp_mfa,
            }
        return {
            "name": found.name,
            "issuer": found.issuer,
            "client_id": found.client_id,
            "domains": [domain.pk for domain in found.domains.all()],
            "default_role": found.default_role_id,
            "enabled": found.enabled,
            "trust_idp_mfa": found.trust_idp_mfa,
        }

    def get_context_data(self, **kwargs):
        found = self.connection
        if found.is_saml:
            return super().get_context_data(
                connection=found,
                sp_entity_id=saml.sp_entity_id(self.request, found),
                acs_url=saml.acs_url(self.request, found),
                **kwargs,
            )
        return super().get_context_data(connection=found, redirect_uri=redirect_uri(self.request, found), **kwargs)

    def form_valid(self, form):
        update = saml_connection_update if self.connection.is_saml else connection_update
        try:
            update(actor=self.request.user, connection=self.connection, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, f"“{self.connection.name}” is saved.")
        return redirect(self.done_url())


class ConnectionEnabledView(ConnectionMixin, WorkspaceActionView):
    """Turn a connection on or off (POST ``enabled=on|off``)."""

    def act(self, request) -> None:
        turn_on = request.POST.get("enabled") == "on"
        connection_set_enabled(actor=request.user, connection=self.connection, enabled=turn_on)
        state = "enabled" if turn_on else "disabled: nobody signs in through it"
        messages.success(request, f"“{self.connection.name}” is {state}.")


class ConnectionRemoveView(ConfirmMixin, ConnectionMixin, WorkspaceActionView):
    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Remove the connection “{self.connection.name}”?",
            button="Remove the connection",
            cancel_url=self.done_url(),
            consequences=[
                "Nobody signs in through this identity provider any more; their accounts and memberships stay.",
                "Its client secret is deleted: connecting again means entering it again.",
            ],
        )

    def act(self, request) -> None:
        name = self.connection.name
        connection_remove(actor=request.user, connection=self.connection)
        messages.success(request, f"“{name}” is removed.")


class RequirementView(WorkspaceMixin, WorkspaceActionView):
    """Require single sign-on, or stop requiring it (POST ``required=on|off``)."""

    required_capability = "manage_sso"

    def act(self, request) -> None:
        turn_on = request.POST.get("required") == "on"
        sso_requirement_set(actor=request.user, workspace=self.workspace, required=turn_on)
        if turn_on:
            messages.success(request, "Single sign-on is required of members at your connections' domains.")
        else:
            messages.success(request, "Single sign-on is no longer required.")

    def done_url(self) -> str:
        return reverse("sso:index", args=[self.workspace.slug])


class ConnectionMappingView(ConnectionMixin, FormView):
    """A connection's group mapping: claim values to a role or teams, applied at each sign-in."""

    template_name = "sso/connection_mapping.html"
    form_class = GroupMappingForm

    def get_initial(self):
        rules = self.connection.group_rules.select_related("role", "team")
        return {"group_claim": self.connection.group_claim, "text": "\n".join(str(rule) for rule in rules)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(connection=self.connection, **kwargs)

    def form_valid(self, form):
        try:
            connection_mapping_set(
                actor=self.request.user,
                connection=self.connection,
                group_claim=form.cleaned_data["group_claim"],
                text=form.cleaned_data["text"],
            )
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, f"The group mapping of “{self.connection.name}” is saved.")
        return redirect("sso:edit", self.workspace.slug, self.connection.pk)


class ConnectionTestView(ConnectionMixin, View):
    """Test the connection (POST): a sign-in at the identity provider, enabled connection or not,
    whose answer is checked as a sign-in's and reported to the tester instead of signing anyone
    in (``connection_test``). The answer is a page that continues to the identity provider, as
    the sign-in page's is (the CSP's ``form-action 'self'`` governs the POST's redirect too)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        connection = self.connection
        token, relay = connection_test.begin(request, connection)
        if connection.is_saml:
            continue_url = saml.start(request, connection, email="", test=token, relay=relay)
        else:
            try:
                response = oidc.start(request, connection, email="", test=token)
            except (OAuth2Error, RequestException, ValueError, KeyError) as exc:
                logger.info("Connection test could not start: %s", type(exc).__name__)
                connection_test.take(request, token, connection)
                return connection_test.finish(
                    request, connection, connection_test.refusal(connection_test.OIDC, "discovery")
                )
            if not isinstance(response, HttpResponseRedirect):
                return response  # allauth's own error page
            continue_url = response["Location"]
        context = {"connection": connection, "continue_url": continue_url, "workspace": self.workspace}
        return TemplateResponse(request, "sso/connection_test_continue.html", context)


class ConnectionTestResultView(ConnectionMixin, TemplateView):
    """The report of the tester's last test of the connection (kept in their session)."""

    template_name = "sso/connection_test_result.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            connection=self.connection, result=connection_test.result_for(self.request, self.connection), **kwargs
        )
