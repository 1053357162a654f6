from django.urls import path

urlpatterns: list = [
    # placeholder names needed by models' get_absolute_url until the record views land
    path("contacts/<int:pk>/", lambda r, pk: None, name="contact_detail"),
    path("companies/<int:pk>/", lambda r, pk: None, name="company_detail"),
]
