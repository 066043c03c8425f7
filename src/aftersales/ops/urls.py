from django.urls import path

from aftersales.ops import views

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("readyz", views.readyz, name="readyz"),
]
