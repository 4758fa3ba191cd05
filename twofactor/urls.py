from django.urls import path

app_name = "two_factor"
urlpatterns: list = []
