from django.urls import path

from aftersales.stats import views, views_more

app_name = "stats"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("orders/", views.drill, name="drill"),
    path("print/", views.dashboard_print, name="print"),
    path("more/", views_more.more, name="more"),
    path("subscribe", views.subscribe, name="subscribe"),
]
