from django.urls import path

from aftersales.visits import views

app_name = "visits"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("<int:pk>/", views.visit, name="visit"),
    path("<int:pk>/assign", views.visit_assign, name="assign"),
    path("<int:pk>/<slug:outcome>", views.visit_act, name="act"),
]
