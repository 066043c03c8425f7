from django.contrib.auth import views as auth_views
from django.urls import path

from aftersales.web import desk, reveals, suggestions, tracking, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("desk/", desk.desk, name="desk"),
    path("desk/lookup", desk.lookup, name="desk-lookup"),
    path("desk/form", desk.intake_form, name="desk-form"),
    path("desk/intake", desk.intake, name="desk-intake"),
    path("desk/suggest", suggestions.symptom, name="desk-suggest"),
    path("queue/", views.queue, name="queue"),
    path("tech/", views.tech, name="tech"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("supervisor/phone-reveals/", reveals.phone_reveals, name="phone-reveals"),
    path("search/", views.search, name="search"),
    path("orders/<int:pk>/", views.order_page, name="order"),
    path("orders/<int:pk>/act/<slug:action>", views.order_action, name="order-action"),
    path("orders/<int:pk>/attach", views.order_attach, name="order-attach"),
    path("orders/<int:pk>/solved/<int:article_id>", suggestions.solved, name="order-solved"),
    path("orders/<int:pk>/files/<int:attachment_id>", views.attachment_file, name="attachment"),
    path("track/", tracking.find, name="track-find"),
    path("t/<str:token>", tracking.track, name="track"),
    path("t/<str:token>/rate", tracking.rate, name="track-rate"),
]
