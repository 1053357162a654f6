from django.urls import path

app_name = "web"
urlpatterns: list = [
    path("contacts/<int:pk>/", lambda r, pk: None, name="contact_detail"),
    path("companies/<int:pk>/", lambda r, pk: None, name="company_detail"),
]
