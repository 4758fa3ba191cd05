from django.urls import path

app_name = "site_access"
urlpatterns: list = []
