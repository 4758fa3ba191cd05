from django.urls import path

app_name = "explain"
urlpatterns: list = []
