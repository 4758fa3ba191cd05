from django.urls import path

app_name = "viewer_groups"
urlpatterns: list = []
