"""Public (no login) URLs of the sales app: hosted web forms at /f/<slug>."""

from django.urls import path

from .views import forms

urlpatterns = [
    path("<slug:slug>", forms.public_form, name="public_form"),
]
