"""Lead pages, web form builder and assignment settings (merged into the "web" namespace)."""

from django.urls import path

from .views import assignment, forms, leads

urlpatterns = [
    path("leads/", leads.lead_list, name="lead_list"),
    path("leads/new/", leads.lead_create, name="lead_create"),
    path("leads/<int:pk>/", leads.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", leads.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/status/", leads.lead_status, name="lead_status"),
    path("leads/<int:pk>/assign/", leads.lead_assign, name="lead_assign"),
    path("leads/<int:pk>/convert/", leads.lead_convert, name="lead_convert"),
    path("leads/<int:pk>/delete/", leads.lead_delete, name="lead_delete"),
    path("leads/<int:pk>/restore/", leads.lead_restore, name="lead_restore"),
    path("leads/forms/", forms.webform_list, name="webform_list"),
    path("leads/forms/new/", forms.webform_create, name="webform_create"),
    path("leads/forms/<int:pk>/", forms.webform_detail, name="webform_detail"),
    path("leads/forms/<int:pk>/edit/", forms.webform_edit, name="webform_edit"),
    path("leads/forms/<int:pk>/delete/", forms.webform_delete, name="webform_delete"),
    path("leads/assignment/", assignment.assignment_rules, name="assignment_rules"),
    path("leads/assignment/rules/new/", assignment.rule_create, name="assignment_rule_create"),
    path("leads/assignment/rules/<int:pk>/edit/", assignment.rule_edit, name="assignment_rule_edit"),
    path("leads/assignment/rules/<int:pk>/delete/", assignment.rule_delete, name="assignment_rule_delete"),
    path("leads/assignment/rules/<int:pk>/move/", assignment.rule_move, name="assignment_rule_move"),
    path("leads/assignment/teams/new/", assignment.team_create, name="assignment_team_create"),
    path("leads/assignment/teams/<int:pk>/edit/", assignment.team_edit, name="assignment_team_edit"),
    path("leads/assignment/teams/<int:pk>/delete/", assignment.team_delete, name="assignment_team_delete"),
]
