from django.urls import path

from aftersales.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.issue_list, name="list"),
    path("<int:pk>/", views.issue_page, name="issue"),
    path("<int:pk>/act/<slug:action>", views.issue_action, name="action"),
    path("<int:pk>/campaign", views.campaign_start, name="campaign"),
]
