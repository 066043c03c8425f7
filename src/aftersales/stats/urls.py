from django.urls import path

from aftersales.stats import views

app_name = "stats"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("orders/", views.drill, name="drill"),
    path("print/", views.dashboard_print, name="print"),
    path("subscribe", views.subscribe, name="subscribe"),
]
