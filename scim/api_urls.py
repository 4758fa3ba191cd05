"""The SCIM 2.0 endpoints, mounted at /scim/v2/. A trailing slash is accepted and not required,
since identity providers append paths to the base URL as they please."""

from django.urls import re_path

from . import api

app_name = "scim"
urlpatterns = [
    re_path(r"^ServiceProviderConfigs?/?$", api.service_provider_config, name="service_provider_config"),
    re_path(r"^ResourceTypes/?$", api.resource_types, name="resource_types"),
    re_path(r"^ResourceTypes/(?P<name>[^/]+)/?$", api.resource_types, name="resource_type"),
    re_path(r"^Schemas/?$", api.schemas, name="schemas"),
    re_path(r"^Schemas/(?P<schema_id>[^/]+)/?$", api.schemas, name="schema"),
    re_path(r"^\.search/?$", api.search, name="search"),
    re_path(r"^(?P<resource>Users|Groups)/\.search/?$", api.search, name="resource_search"),
    re_path(r"^Users/?$", api.users, name="users"),
    re_path(r"^Users/(?P<scim_id>[^/]+)/?$", api.user, name="user"),
    re_path(r"^Groups/?$", api.groups, name="groups"),
    re_path(r"^Groups/(?P<team_id>[^/]+)/?$", api.group, name="group"),
    re_path(r"^(?P<rest>.*)$", api.not_found, name="not_found"),
]
