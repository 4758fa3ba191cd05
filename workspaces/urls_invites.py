from django.urls import path

app_name = "invites"
urlpatterns: list = []
