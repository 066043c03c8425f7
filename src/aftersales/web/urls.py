from django.contrib.auth import views as auth_views
from django.urls import path

from aftersales.knowledge import views as knowledge
from aftersales.web import archive, desk, print as printing, reveals, suggestions, tracking, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("desk/", desk.desk, name="desk"),
    path("desk/lookup", desk.lookup, name="desk-lookup"),
    path("desk/form", desk.intake_form, name="desk-form"),
    path("desk/intake", desk.intake, name="desk-intake"),
    path("desk/suggest", suggestions.symptom, name="desk-suggest"),
    path("desk/check", desk.check, name="desk-check"),
    path("queue/", views.queue, name="queue"),
    path("tech/", views.tech, name="tech"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("supervisor/phone-reveals/", reveals.phone_reveals, name="phone-reveals"),
    path("search/", views.search, name="search"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all", views.inbox_read_all, name="inbox-read-all"),
    path("inbox/<int:pk>/", views.inbox_open, name="inbox-open"),
    path("customers/", archive.customers, name="customers"),
    path("machines/", archive.machines, name="machines"),
    path("orders/<int:pk>/", views.order_page, name="order"),
    path("orders/<int:pk>/print/", printing.order_print, name="order-print"),
    path("orders/<int:pk>/act/<slug:action>", views.order_action, name="order-action"),
    path("orders/<int:pk>/attach", views.order_attach, name="order-attach"),
    path("orders/<int:pk>/solved/<int:article_id>", suggestions.solved, name="order-solved"),
    path("orders/<int:pk>/files/<int:attachment_id>", views.attachment_file, name="attachment"),
    path("knowledge/", knowledge.article_list, name="knowledge"),
    path("knowledge/new", knowledge.article_new, name="article-new"),
    path("knowledge/<int:pk>/", knowledge.article_page, name="article"),
    path("knowledge/<int:pk>/edit", knowledge.article_edit, name="article-edit"),
    path("knowledge/<int:pk>/act/<slug:action>", knowledge.article_act, name="article-act"),
    path("knowledge/<int:pk>/attach", knowledge.article_attach, name="article-attach"),
    path("knowledge/<int:pk>/files/<int:attachment_id>", knowledge.article_file, name="article-file"),
    path("track/", tracking.find, name="track-find"),
    path("track/rate", tracking.rate_here, name="track-rate-here"),
    path("track/forget", tracking.forget, name="track-forget"),
    path("t/<str:token>", tracking.track, name="track"),
    path("t/<str:token>/rate", tracking.rate, name="track-rate"),
]
