"""Deal pages: the board per pipeline, the list, record pages, forms, moves, line items, trash."""

from django.urls import path

from .views import board, deals

urlpatterns = [
    path("deals/", board.deal_board_default, name="deal_board_default"),
    path("deals/board/<int:pk>/", board.deal_board, name="deal_board"),
    path("deals/list/", board.deal_list, name="deal_list"),
    path("deals/new/", deals.deal_create, name="deal_create"),
    path("deals/stage-options/", deals.deal_stage_options, name="deal_stage_options"),
    path("deals/contact-lookup/", deals.deal_contact_lookup, name="deal_contact_lookup"),
    path("deals/<int:pk>/", deals.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", deals.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", deals.deal_move, name="deal_move"),
    path("deals/<int:pk>/line-items/", deals.deal_line_items, name="deal_line_items"),
    path("deals/<int:pk>/delete/", deals.deal_delete, name="deal_delete"),
    path("deals/<int:pk>/restore/", deals.deal_restore, name="deal_restore"),
]
