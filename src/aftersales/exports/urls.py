from django.urls import path

from aftersales.exports import views

app_name = "exports"
urlpatterns = [path("<str:token>/", views.download, name="download")]
