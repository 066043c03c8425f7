from django.urls import path

from aftersales.inbox import views

app_name = "mailbox"

urlpatterns = [
    path("", views.draft_list, name="list"),
    path("<int:pk>/", views.draft_page, name="draft"),
    path("<int:pk>/complete", views.draft_complete, name="complete"),
    path("<int:pk>/discard", views.draft_discard, name="discard"),
    path("<int:pk>/files/<int:attachment_id>", views.draft_file, name="file"),
]
