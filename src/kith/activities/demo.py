"""A believable year of activities for the demo workspace (`kith demo`, `kith serve --demo`).

Every contact gets a handful of calls, emails, notes and meetings spread over the last year, busier for
customers and open deals; deals get their own; each user gets open tasks (some overdue, some today, some
repeating, most with reminders) and meetings this week, so My day, the calendar and reminders have
something to show on the first visit. Rows are bulk-inserted (history rows only for tasks and meetings
to come); reminders are scheduled through the services so they fire like real ones.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import (
    Activity,
    ActivityLink,
    ActivityType,
    Attendee,
    CallOutcome,
    Comment,
    Direction,
    EmailStatus,
    Priority,
    Recurrence,
    TaskStatus,
)

CALL_SUBJECTS = [
    "Discovery call", "Follow-up call", "Pricing questions", "Check-in", "Renewal conversation",
    "Onboarding call", "Support escalation", "Intro call", "Budget review", "Reference call",
]
CALL_NOTES = [
    "Talked through their current process; they track everything in spreadsheets and lose follow-ups.",
    "Asked for a proposal by the end of the month. Decision maker is the COO.",
    "Left a voicemail, will try again on Thursday.",
    "They are comparing us with two other vendors. Price is the main concern.",
    "Happy with the rollout so far; want training for the new team in {city}.",
    "Procurement needs our security questionnaire before they can sign.",
    "Budget approved for next quarter. Wants a call with our implementation lead.",
    "No answer. Sent a short email instead.",
]
MEETING_SUBJECTS = [
    "Product demo", "Quarterly business review", "Kick-off meeting", "Contract negotiation",
    "Technical deep dive", "Lunch with the team", "Workshop: requirements", "Executive sponsor meeting",
]
MEETING_OUTCOMES = [
    "Agreed on a two-week pilot with five users.",
    "They want a revised quote with annual billing.",
    "Good energy in the room; legal review is the next step.",
    "Identified three integrations they need before going live.",
    "",
]
LOCATIONS = ["Their office", "Our office, room Fjord", "Café Central", "Video call", "Trade fair booth 4B"]
NOTES = [
    "**Key facts**\n\n- Fiscal year starts in April\n- Uses Outlook and Teams\n- Prefers email over phone",
    "Met at the industry conference; interested in the reporting features.",
    "Moved to a new role in the same company; keep them in the loop on the renewal.",
    "Mentioned a competitor's price: about 20% below ours. Don't discount before the demo.",
    "Sends invoices to accounts payable, not to them directly.",
    "Wants to be contacted after the summer holidays.",
]
PINNED_NOTES = [
    "**Account plan**: expand from the sales team to support in Q3. Champion is on our side; CFO is not yet.",
    "**Important**: all contract changes go through their legal department (legal@ their domain).",
]
EMAIL_SUBJECTS = [
    ("Proposal for {company}", "Hi {first},\n\nAs promised, here is our proposal. Happy to walk you through it.\n\nBest regards"),
    ("Next steps", "Hi {first},\n\nThanks for your time today. As discussed, I'll send the pilot plan by Friday."),
    ("Re: Pricing", "Hi {first},\n\nThe annual plan includes onboarding and priority support."),
    ("Meeting notes", "Hi {first},\n\nPlease find the notes from our meeting below. Let me know if I missed anything."),
    ("Checking in", "Hi {first},\n\nJust checking in to see how the rollout is going."),
]
TASKS = [
    "Send proposal", "Call back about pricing", "Prepare demo", "Follow up on the contract", "Send case study",
    "Book the kick-off meeting", "Ask for a referral", "Update the forecast", "Confirm the order quantity",
    "Send the security questionnaire", "Check in after onboarding", "Review the renewal terms",
]
RECURRING = [("Weekly pipeline review", Recurrence.WEEKLY), ("Clean up stale leads", Recurrence.MONTHLY),
             ("Check the support queue", Recurrence.DAILY)]


class _Demo:
    def __init__(self, *, rng: random.Random, users: list, contacts: list, deals: list, leads: list):
        self.rng = rng
        self.users = [u for u in users if u.role != "viewer"] or users
        self.contacts = contacts
        self.deals = deals
        self.leads = leads
        self.now = timezone.now()
        self.acts: list[Activity] = []
        self.links: list[tuple[int, list[tuple[str, int]]]] = []  # (index in acts, [(type, id)])
        self.attendees: list[tuple[int, dict[str, Any]]] = []

    def office_time(self, day: dt.datetime) -> dt.datetime:
        day = day.replace(hour=self.rng.randint(8, 17), minute=self.rng.choice([0, 15, 30, 45]), second=0, microsecond=0)
        if day.weekday() >= 5:
            day -= dt.timedelta(days=day.weekday() - 4)
        return day

    def past(self, max_days: int = 365) -> dt.datetime:
        t = self.now - dt.timedelta(days=self.rng.randint(1, max_days), hours=self.rng.randint(0, 23))
        t = self.office_time(t)
        return min(t, self.now - dt.timedelta(minutes=5))

    def add(self, act: Activity, links: list[tuple[str, int]], attendees: list[dict[str, Any]] | None = None) -> None:
        act.created_at = act.updated_at = min(act.occurred_at, self.now) if act.type != ActivityType.TASK else self.past(20)
        self.links.append((len(self.acts), links))
        for a in attendees or []:
            self.attendees.append((len(self.acts), a))
        self.acts.append(act)

    def contact_links(self, c) -> list[tuple[str, int]]:
        out = [("contact", c.pk)]
        if c.company_id:
            out.append(("company", c.company_id))
        return out

    def build(self) -> None:
        rng = self.rng
        for c in self.contacts:
            owner = c.owner if c.owner_id and c.owner in self.users else rng.choice(self.users)
            first = c.first_name or "there"
            company = getattr(c.company, "name", "your team")
            n = rng.choices([1, 2, 3, 5, 8], weights=[20, 30, 25, 15, 10])[0]
            if c.lifecycle_stage == "customer":
                n += 3
            for _ in range(n):
                kind = rng.choices(["call", "email", "note", "meeting"], weights=[40, 35, 15, 10])[0]
                when = self.past()
                if kind == "call":
                    outcome = rng.choices(CallOutcome.values, weights=[55, 20, 20, 4, 1])[0]
                    self.add(Activity(
                        type=ActivityType.CALL, owner=owner, subject=rng.choice(CALL_SUBJECTS), occurred_at=when,
                        direction=rng.choices([Direction.OUTBOUND, Direction.INBOUND], weights=[75, 25])[0],
                        outcome=outcome, duration_seconds=rng.randint(120, 2400) if outcome == "connected" else rng.randint(10, 60),
                        body=rng.choice(CALL_NOTES).format(city=c.city or "their office"),
                    ), self.contact_links(c))
                elif kind == "email":
                    subject, body = rng.choice(EMAIL_SUBJECTS)
                    inbound = rng.random() < 0.35
                    self.add(Activity(
                        type=ActivityType.EMAIL, owner=owner, occurred_at=when,
                        subject=("Re: " if inbound else "") + subject.format(company=company),
                        body=body.format(first=first), direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                        email_from=c.email if inbound else owner.email,
                        email_to=[owner.email] if inbound else [c.email] if c.email else [],
                        email_status=EmailStatus.LOGGED if inbound else EmailStatus.SENT, sent_at=when,
                    ), self.contact_links(c))
                elif kind == "note":
                    self.add(Activity(type=ActivityType.NOTE, owner=owner, occurred_at=when, body=rng.choice(NOTES)),
                             self.contact_links(c))
                else:
                    start = when
                    self.add(Activity(
                        type=ActivityType.MEETING, owner=owner, subject=rng.choice(MEETING_SUBJECTS), occurred_at=start,
                        ends_at=start + dt.timedelta(minutes=rng.choice([30, 45, 60, 90])),
                        location=rng.choice(LOCATIONS), outcome=rng.choice(MEETING_OUTCOMES),
                        body="1. Introductions\n2. Their goals for this year\n3. Demo\n4. Next steps",
                    ), self.contact_links(c), [{"contact": c, "name": str(c), "email": c.email, "response": "accepted"},
                                                {"user": owner, "name": owner.full_name, "email": owner.email, "response": "accepted"}])
            if c.lifecycle_stage == "customer" and rng.random() < 0.25:
                self.add(Activity(type=ActivityType.NOTE, owner=owner, occurred_at=self.past(200), pinned=True,
                                  body=rng.choice(PINNED_NOTES)), self.contact_links(c))

        for deal in self.deals:
            owner = deal.owner if deal.owner_id and deal.owner in self.users else rng.choice(self.users)
            links = [("deal", deal.pk)] + ([("company", deal.company_id)] if deal.company_id else [])
            contact_ids = [c.pk for c in deal.contacts.all()]
            links += [("contact", pk) for pk in contact_ids[:2]]
            for _ in range(rng.randint(1, 4)):
                kind = rng.choice(["call", "meeting", "note"])
                when = max(self.past(), deal.created_at) if deal.created_at < self.now else self.past()
                if kind == "meeting":
                    self.add(Activity(
                        type=ActivityType.MEETING, owner=owner, subject=f"{rng.choice(MEETING_SUBJECTS)}: {deal.name}",
                        occurred_at=when, ends_at=when + dt.timedelta(hours=1), location=rng.choice(LOCATIONS),
                        outcome=rng.choice(MEETING_OUTCOMES)), links)
                elif kind == "call":
                    self.add(Activity(type=ActivityType.CALL, owner=owner, subject=rng.choice(CALL_SUBJECTS),
                                      occurred_at=when, direction=Direction.OUTBOUND, outcome="connected",
                                      duration_seconds=rng.randint(300, 1800), body=rng.choice(CALL_NOTES).format(city="their office")), links)
                else:
                    self.add(Activity(type=ActivityType.NOTE, owner=owner, occurred_at=when, body=rng.choice(NOTES)), links)

        # Open tasks for everyone: overdue, today, this week, later; most with reminders; a few repeating.
        today9 = timezone.localtime(self.now).replace(hour=9, minute=0, second=0, microsecond=0)
        targets = [("contact", c) for c in self.contacts[:200]] + [("deal", d) for d in self.deals if d.stage.kind == "open"]
        for user in self.users:
            for i in range(14):
                kind, rec = rng.choice(targets) if targets else (None, None)
                offset = rng.choice([-6, -3, -1, 0, 0, 0, 1, 2, 3, 5, 8, 14])
                due = today9 + dt.timedelta(days=offset, hours=rng.randint(0, 8))
                links = []
                if rec is not None:
                    links = [(kind, rec.pk)] + ([("company", rec.company_id)] if getattr(rec, "company_id", None) else [])
                self.add(Activity(
                    type=ActivityType.TASK, owner=user, assignee=user, subject=f"{rng.choice(TASKS)}" + (f" — {rec}" if rec else ""),
                    due_at=due, occurred_at=due, priority=rng.choices(Priority.values, weights=[15, 55, 22, 8])[0],
                    reminder_minutes=rng.choice([None, 0, 15, 15, 60]) if due > self.now else None,
                ), links)
                if i < 3:  # a few done ones, for the history
                    done = self.acts[-1]
                    done.due_at = done.occurred_at = self.past(60)
                    done.status = TaskStatus.DONE
                    done.completed_at = done.due_at
                    done.reminder_minutes = None
            subject, rule = rng.choice(RECURRING)
            self.add(Activity(type=ActivityType.TASK, owner=user, assignee=user, subject=subject, recurrence=rule,
                              due_at=today9 + dt.timedelta(days=1), occurred_at=today9 + dt.timedelta(days=1),
                              reminder_minutes=15), [])
            # Meetings this week, with colleagues and contacts.
            for _ in range(4):
                c = rng.choice(self.contacts) if self.contacts else None
                start = today9 + dt.timedelta(days=rng.randint(0, 4), hours=rng.randint(0, 7))
                attendees = [{"user": user, "name": user.full_name, "email": user.email, "response": "accepted"}]
                if c is not None:
                    attendees.append({"contact": c, "name": str(c), "email": c.email, "response": "needs_action"})
                other = rng.choice(self.users)
                if other != user:
                    attendees.append({"user": other, "name": other.full_name, "email": other.email, "response": "accepted"})
                self.add(Activity(
                    type=ActivityType.MEETING, owner=user, subject=rng.choice(MEETING_SUBJECTS) + (f" with {c.company or c}" if c else ""),
                    occurred_at=start, ends_at=start + dt.timedelta(minutes=rng.choice([30, 60])),
                    location=rng.choice(LOCATIONS), video_url="https://meet.example.com/kith-demo" if rng.random() < 0.4 else "",
                    reminder_minutes=15, body="Agenda:\n\n- Status\n- Open questions\n- Next steps",
                ), self.contact_links(c) if c else [], attendees)

    def save(self) -> dict[str, int]:
        with transaction.atomic():
            Activity.objects.bulk_create(self.acts, batch_size=500)
            links = []
            for index, keys in self.links:
                act = self.acts[index]
                for kind, pk in dict.fromkeys(keys):
                    links.append(ActivityLink(activity=act, record_type=kind, record_id=pk, occurred_at=act.occurred_at,
                                              type=act.type, pinned=act.pinned))
            ActivityLink.objects.bulk_create(links, batch_size=1000)
            Attendee.objects.bulk_create(
                [Attendee(activity=self.acts[i], contact=a.get("contact"), user=a.get("user"), name=a.get("name") or "",
                          email=a.get("email") or "", response=a.get("response", "needs_action")) for i, a in self.attendees],
                batch_size=1000,
            )
            from . import services

            future = [a for a in self.acts if a.reminder_minutes is not None and (a.due_at or a.occurred_at) > self.now]
            for act in future:
                services.schedule_reminders(act)
            # A few comments with mentions, so the notification bell has something in it.
            comments = 0
            if len(self.users) > 1:
                for c in self.contacts[:6]:
                    author, other = self.rng.sample(self.users, 2)
                    written = self.past(10)  # (updated_at too: a later one shows the comment as edited)
                    Comment.objects.create(record_type="contact", record_id=c.pk, author=author,
                                           company_rollup_id=services.rollup_company("contact", c),
                                           body=f"@{other.email} can you take this one? They asked for a call next week.",
                                           created_at=written, updated_at=written)
                    comments += 1
        return {"activities": len(self.acts), "tasks": sum(1 for a in self.acts if a.type == ActivityType.TASK),
                "meetings": sum(1 for a in self.acts if a.type == ActivityType.MEETING), "comments": comments,
                "reminders": len(future)}


def load_activities_demo(*, rng: random.Random, users: list, contacts: list) -> dict[str, int]:
    from kith.sales.models import Deal, Lead

    if Activity.all_objects.exists():
        return {"skipped": 1}
    deals = list(Deal.objects.select_related("stage", "owner").prefetch_related("contacts").order_by("id"))
    leads = list(Lead.objects.order_by("id"))
    demo = _Demo(rng=rng, users=users, contacts=contacts, deals=deals, leads=leads)
    demo.build()
    return demo.save()
