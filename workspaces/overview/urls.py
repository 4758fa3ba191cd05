"""Workspace, site and experience pages, mounted at the site root (namespace "workspaces").

"w/new/" comes before "w/<slug>/" so that it is never read as a workspace slug.
"""

from django.urls import path

from workspaces.experiences import views as views_experiences
from workspaces.overview import views
from workspaces.sites import views as views_sites

app_name = "workspaces"

WS = "w/<slug:workspace_slug>/"
SITE = WS + "sites/<slug:site_slug>/"
EXPERIENCE = WS + "experiences/<int:pk>/"

urlpatterns = [
    path("w/new/", views.WorkspaceCreateView.as_view(), name="create"),
    path(WS, views.WorkspaceDetailView.as_view(), name="detail"),
    path(WS + "sites/", views_sites.SiteListView.as_view(), name="site_list"),
    path(WS + "leave/", views.WorkspaceLeaveView.as_view(), name="leave"),
    path(WS + "delete/", views.WorkspaceDeleteView.as_view(), name="delete"),
    path(WS + "sites/new/", views_sites.SiteCreateView.as_view(), name="site_create"),
    path(SITE, views_sites.SiteDetailView.as_view(), name="site_detail"),
    path(SITE + "edit/", views_sites.SiteEditView.as_view(), name="site_edit"),
    path(SITE + "delete/", views_sites.SiteDeleteView.as_view(), name="site_delete"),
    path(SITE + "reset/", views_sites.SiteResetView.as_view(), name="site_reset"),
    path(SITE + "session-capture/", views_sites.SiteSessionCaptureView.as_view(), name="site_session_capture"),
    path(WS + "experiences/", views_experiences.ExperienceListView.as_view(), name="experience_list"),
    path(WS + "experiences/new/", views_experiences.ExperienceCreateView.as_view(), name="experience_create"),
    path(EXPERIENCE, views_experiences.ExperienceDetailView.as_view(), name="experience_detail"),
    path(EXPERIENCE + "edit/", views_experiences.ExperienceEditView.as_view(), name="experience_edit"),
    path(EXPERIENCE + "publish/", views_experiences.ExperiencePublishView.as_view(), name="experience_publish"),
    path(EXPERIENCE + "unpublish/", views_experiences.ExperienceUnpublishView.as_view(), name="experience_unpublish"),
    path(EXPERIENCE + "delete/", views_experiences.ExperienceDeleteView.as_view(), name="experience_delete"),
]
