from django.urls import path

from aftersales.calls import views

app_name = "calls"

urlpatterns = [
    path("", views.day, name="day"),
    path("pop", views.pop, name="pop"),
    path("callbacks/<int:pk>/done", views.callback_done, name="callback-done"),
]
