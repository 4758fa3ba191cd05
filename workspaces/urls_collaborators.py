from django.urls import path

app_name = "collaborators"
urlpatterns: list = []
