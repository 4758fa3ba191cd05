from django.urls import path

app_name = "join_domains"
urlpatterns: list = []
