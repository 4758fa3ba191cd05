from django.urls import path

app_name = "join_requests"
urlpatterns: list = []
