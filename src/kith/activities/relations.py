"""Moving activities, comments and meeting attendance from one record to another when records are merged
(kith.core.relations; called by kith.duplicates), and moving them back when the merge is undone."""

from __future__ import annotations

from typing import Any

from kith.core.relations import related_mover

from .models import ActivityLink, Attendee, Comment


@related_mover
def move_activities(*, object_type: str, source_id: int, target_id: int) -> dict[str, Any]:
    links = ActivityLink.objects.filter(record_type=object_type, record_id=source_id)
    already = set(
        ActivityLink.objects.filter(record_type=object_type, record_id=target_id).values_list("activity_id", flat=True)
    )
    # An activity on both records keeps the survivor's link; the loser's duplicate link is dropped.
    dropped = list(links.filter(activity_id__in=already).values_list("activity_id", flat=True))
    links.filter(activity_id__in=already).delete()
    moved = list(links.values_list("pk", flat=True))
    ActivityLink.objects.filter(pk__in=moved).update(record_id=target_id)
    comments = list(Comment.all_objects.filter(record_type=object_type, record_id=source_id).values_list("pk", flat=True))
    Comment.all_objects.filter(pk__in=comments).update(record_id=target_id)
    rolled: list[int] = []
    if object_type == "company":  # its contacts' and deals' comments show on the survivor's timeline
        rolled = list(Comment.all_objects.filter(company_rollup_id=source_id).values_list("pk", flat=True))
        Comment.all_objects.filter(pk__in=rolled).update(company_rollup_id=target_id)
    attendees: list[int] = []
    if object_type == "contact":
        attendees = list(Attendee.objects.filter(contact_id=source_id).values_list("pk", flat=True))
        Attendee.objects.filter(pk__in=attendees).update(contact_id=target_id)
    return {
        "activities": len(moved) + len(dropped),
        "comments": len(comments),
        "undo": {"links": moved, "dropped": dropped, "comments": comments, "attendees": attendees,
                 "rolled_comments": rolled},
    }


@related_mover.undo(move_activities)
def undo_move_activities(*, object_type: str, source_id: int, target_id: int, undo: dict[str, Any]) -> None:
    """Put back what move_activities moved (the loser's links, comments and attendance)."""
    from django.utils import timezone

    ActivityLink.objects.filter(pk__in=undo.get("links", [])).update(record_id=source_id)
    for activity_id in undo.get("dropped", []):
        link = ActivityLink.objects.filter(activity_id=activity_id).first()
        ActivityLink.objects.get_or_create(
            activity_id=activity_id, record_type=object_type, record_id=source_id,
            defaults={"occurred_at": link.occurred_at if link else timezone.now(), "type": link.type if link else "note",
                      "pinned": link.pinned if link else False},
        )
    Comment.all_objects.filter(pk__in=undo.get("comments", [])).update(record_id=source_id)
    Comment.all_objects.filter(pk__in=undo.get("rolled_comments", [])).update(company_rollup_id=source_id)
    if object_type == "contact":
        Attendee.objects.filter(pk__in=undo.get("attendees", [])).update(contact_id=source_id)

