from django.urls import path

from aftersales.standards import views

app_name = "standards"

urlpatterns = [
    path("", views.home, name="home"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("rollcall/", views.rollcall, name="rollcall"),
    path("briefings/<int:pk>/", views.briefing, name="briefing"),
    path("briefings/<int:pk>/mark/<int:person_id>", views.briefing_mark, name="briefing-mark"),
    path("briefings/<int:pk>/topics", views.briefing_topics, name="briefing-topics"),
    path("inspect/", views.inspect, name="inspect"),
    path("inspections/<int:pk>/", views.inspection, name="inspection"),
    path("inspections/<int:pk>/acknowledge", views.inspection_ack, name="inspection-ack"),
    path("inspections/<int:pk>/photos/<int:line_id>", views.inspection_photo, name="inspection-photo"),
    path("check", views.check, name="check"),
    path("cases/", views.case_list, name="cases"),
    path("cases/new", views.case_new, name="case-new"),
    path("cases/<int:pk>/", views.case_page, name="case"),
    path("cases/<int:pk>/act/<slug:action>", views.case_action, name="case-action"),
    path("training/", views.training, name="training"),
    path("training/<int:pk>/", views.exam, name="exam"),
    path("scorecards/", views.scorecard_list, name="scorecards"),
]
