from django.urls import path

from aftersales.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("s/<str:serial>/", views.scan, name="scan"),
    path("machines/<int:pk>/", views.machine, name="machine"),
    path("report/", views.report, name="report"),
    path("orders/<str:number>/", views.order, name="order"),
    path("orders/<str:number>/<slug:action>", views.order_act, name="act"),
]
