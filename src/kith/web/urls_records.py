"""URLs of the record pages: sign in/out, home, contacts, companies, trash and global search."""

from django.urls import path

from . import views_auth, views_companies, views_contacts, views_main

urlpatterns: list = [
    path("login/", views_auth.login_view, name="login"),
    path("logout/", views_auth.logout_view, name="logout"),
    path("", views_main.home, name="home"),
    path("search/", views_main.search, name="search"),
    path("trash/", views_main.trash, name="trash"),
    path("contacts/", views_contacts.contact_list, name="contact_list"),
    path("contacts/new/", views_contacts.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views_contacts.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views_contacts.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views_contacts.contact_delete, name="contact_delete"),
    path("contacts/<int:pk>/restore/", views_contacts.contact_restore, name="contact_restore"),
    path("companies/", views_companies.company_list, name="company_list"),
    path("companies/new/", views_companies.company_create, name="company_create"),
    path("companies/lookup/", views_companies.company_lookup, name="company_lookup"),
    path("companies/<int:pk>/", views_companies.company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", views_companies.company_edit, name="company_edit"),
    path("companies/<int:pk>/delete/", views_companies.company_delete, name="company_delete"),
    path("companies/<int:pk>/restore/", views_companies.company_restore, name="company_restore"),
]
