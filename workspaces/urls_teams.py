from django.urls import path

app_name = "teams"
urlpatterns: list = []
