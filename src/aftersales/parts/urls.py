from django.urls import path

from aftersales.parts import views

app_name = "parts"

urlpatterns = [
    path("", views.home, name="home"),
    path("van/", views.van_page, name="van"),
    path("stock/", views.stock_page, name="stock"),
    path("desk/", views.desk_page, name="desk"),
    path("catalogue/", views.catalogue_page, name="catalogue"),
    path("claims/", views.claim_list, name="claims"),
    path("claims/<int:pk>/", views.claim_page, name="claim"),
    path("settlements/", views.settlement_list, name="settlements"),
    path("settlements/<int:pk>/", views.settlement_page, name="settlement"),
    path("act/<slug:action>", views.act, name="act"),
]
