"""Each person's private iCalendar feed of the course days that concern them.

The feed's address carries a random token; only its SHA-256 is stored, so
the address is shown once, when it is made, and a new one can replace it at
any time (which stops the old one working).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app, url_for
from icalendar import Calendar, Event
from sqlalchemy import or_, select

from lms.accounts.models import RoleGrant, User
from lms.attendance.models import CalendarToken, CatchUp
from lms.attendance.policies import ON_THE_REGISTER
from lms.attendance.services import at_local, day_titles, zone
from lms.authz.roles import Role
from lms.cohorts.models import Cohort, CourseDay, Enrolment
from lms.database import utcnow
from lms.extensions import db

FEED_NAME = "Peer support training"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    """The full address of a feed, for calendar apps."""
    return current_app.config["LMS_BASE_URL"].rstrip("/") + url_for("attendance.calendar_feed", token=token)


def calendar_link(actor: User) -> CalendarToken | None:
    """The person's current feed (its token is not recoverable), or None."""
    return db.session.execute(
        select(CalendarToken).where(CalendarToken.user_id == actor.id)).scalar_one_or_none()


def new_calendar_link(actor: User) -> str:
    """Make a new feed token for ``actor``, replacing any old one; returns the token (shown once)."""
    token = secrets.token_urlsafe(32)
    existing = calendar_link(actor)
    if existing is None:
        db.session.add(CalendarToken(user_id=actor.id, token_hash=_hash(token), created_at=utcnow()))
    else:
        existing.token_hash = _hash(token)
        existing.created_at = utcnow()
    db.session.flush()
    return token


def revoke_calendar_link(actor: User) -> bool:
    """Stop the person's feed working. Returns whether there was one."""
    existing = calendar_link(actor)
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    return True


def feed_owner(token: str) -> User | None:
    """The active person whose feed this token opens, or None."""
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(User).join(CalendarToken, CalendarToken.user_id == User.id)
        .where(CalendarToken.token_hash == _hash(token), User.active.is_(True))
    ).scalar_one_or_none()


def _cohort_ids(user: User) -> tuple[set[int], set[int]]:
    """(cohorts whose days concern ``user``, cohorts they teach)."""
    taught = set(db.session.execute(select(RoleGrant.cohort_id).where(
        RoleGrant.user_id == user.id, RoleGrant.role == Role.TUTOR.value,
        RoleGrant.cohort_id.is_not(None))).scalars())
    linked = set(db.session.execute(select(Enrolment.cohort_id).where(
        Enrolment.status.in_(ON_THE_REGISTER),
        or_(Enrolment.trainee_id == user.id, Enrolment.academic_supervisor_id == user.id,
            Enrolment.personal_supervisor_id == user.id))).scalars())
    return linked | taught, taught


def feed_for(user: User) -> bytes:
    """The iCalendar feed of ``user``: their course days (once each) and catch-up sessions.

    Trainees get their cohorts' days and their own catch-up sessions; tutors
    the days of the cohorts they teach and those cohorts' catch-up sessions;
    supervisors the days of their trainees' cohorts.
    """
    cohort_ids, taught = _cohort_ids(user)
    days = db.session.execute(
        select(CourseDay, Cohort).join(Cohort, Cohort.id == CourseDay.cohort_id)
        .where(CourseDay.cohort_id.in_(cohort_ids)).order_by(CourseDay.date, CourseDay.starts_at)
    ).all()
    catch_ups = db.session.execute(
        select(CatchUp, CourseDay, Cohort, User)
        .join(CourseDay, CourseDay.id == CatchUp.course_day_id)
        .join(Cohort, Cohort.id == CourseDay.cohort_id)
        .join(User, User.id == CatchUp.trainee_id)
        .where(CatchUp.kind == "session", CatchUp.starts_at.is_not(None), CatchUp.ends_at.is_not(None),
               or_(CatchUp.trainee_id == user.id, CourseDay.cohort_id.in_(taught)))
        .order_by(CatchUp.on_date)
    ).all()

    # UIDs stay the same from one fetch to the next, so calendar apps update events rather than duplicate them.
    host = urlsplit(current_app.config["LMS_BASE_URL"]).hostname or "lms"
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    local = zone()
    calendar = Calendar()
    calendar.add("prodid", "-//Peer Support Training LMS//attendance//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", FEED_NAME)
    titles: dict[str, dict[int, str]] = {}
    for day, cohort in days:
        title = titles.setdefault(cohort.course_slug, day_titles(cohort.course_slug)).get(day.number)
        event = Event()
        event.add("uid", f"course-day-{day.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", at_local(day.date, day.starts_at).astimezone(local))
        event.add("dtend", at_local(day.date, day.ends_at).astimezone(local))
        event.add("summary", f"{FEED_NAME} – day {day.number}" + (f": {title}" if title else ""))
        if day.venue:
            event.add("location", day.venue)
        event.add("description", cohort.name)
        calendar.add_component(event)
    for catch_up, day, cohort, trainee in catch_ups:
        title = titles.setdefault(cohort.course_slug, day_titles(cohort.course_slug)).get(day.number)
        about = f"day {day.number}" + (f": {title}" if title else "")
        who = "" if trainee.id == user.id else f" with {trainee.display_name}"
        event = Event()
        event.add("uid", f"catch-up-{catch_up.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", at_local(catch_up.on_date, catch_up.starts_at).astimezone(local))
        event.add("dtend", at_local(catch_up.on_date, catch_up.ends_at).astimezone(local))
        event.add("summary", f"{FEED_NAME} – catch-up session{who} for {about}")
        if catch_up.venue:
            event.add("location", catch_up.venue)
        event.add("description", cohort.name)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
