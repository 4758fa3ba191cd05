from django.urls import path

app_name = "activity"
urlpatterns: list = []
