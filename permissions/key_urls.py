from django.urls import path

app_name = "access_keys"
urlpatterns: list = []
