"""Attendance forms. Each carries a CSRF token; the services check what was entered."""

from __future__ import annotations

import re
from datetime import date, time

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from lms.attendance.services import CATCH_UP_KINDS, CatchUpValues

_REGISTER_FIELD = re.compile(r"^(status|minutes|reason|note)-(\d{1,12})$")
_FIELD_KEYS = {"status": "status", "minutes": "minutes", "reason": "absence_reason", "note": "note"}


class RegisterForm(FlaskForm):
    """The register of one day. Each trainee's fields (status-ID, minutes-ID, reason-ID, note-ID)
    are read by `register_submission`, since the trainees differ from day to day."""

    version = HiddenField()
    change_reason = TextAreaField("Reason for changing marks already saved")


def register_submission(formdata) -> dict[int, dict[str, str]]:
    """What was entered for each trainee, by trainee id. Only trainees with a status are included."""
    submitted: dict[int, dict[str, str]] = {}
    for name in formdata:
        match = _REGISTER_FIELD.match(name)
        if match:
            kind, trainee_id = match.groups()
            submitted.setdefault(int(trainee_id), {})[_FIELD_KEYS[kind]] = formdata.get(name, "")
    return {trainee_id: values for trainee_id, values in submitted.items() if "status" in values}


def register_version(form: RegisterForm) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


class CheckInForm(FlaskForm):
    code = StringField("Check-in code")


class NewCodeForm(FlaskForm):
    """Makes or replaces a day's check-in code (a button only)."""


class SettingsForm(FlaskForm):
    self_check_in = BooleanField("Trainees can check themselves in with a code")
    check_in_minutes = StringField("Minutes check-in stays open after the day starts")


class CatchUpForm(FlaskForm):
    # Radios, drawn by the template from KIND_CHOICES and DONE_CHOICES.
    kind = StringField("What kind of catch-up is it?")
    on_date = StringField("Date", render_kw={"type": "date"})
    starts_at = StringField("Starts at (sessions only)", render_kw={"type": "time"})
    ends_at = StringField("Ends at (sessions only)", render_kw={"type": "time"})
    venue = StringField("Where (sessions only): a room, or the online link")
    note = TextAreaField("Note (optional)")
    completed = StringField("Has it been done?", default="arranged")


KIND_CHOICES = list(CATCH_UP_KINDS.items())
DONE_CHOICES = [("arranged", "Arranged: not done yet"), ("done", "Done: I confirm the trainee has completed it")]


class RemoveCatchUpForm(FlaskForm):
    """Removes a catch-up arranged by mistake (a button only)."""


class CalendarForm(FlaskForm):
    """Makes, replaces or stops the calendar feed link (buttons only)."""


def catch_up_values(form: CatchUpForm) -> tuple[CatchUpValues, list[tuple[str, str]]]:
    """Read the catch-up form; dates and times that can't be read are reported, not guessed."""
    errors: list[tuple[str, str]] = []

    def read(parse, raw: str | None, field: str, message: str):
        raw = (raw or "").strip()
        if not raw:
            return None
        try:
            return parse(raw)
        except ValueError:
            errors.append((field, message))
            return None

    values = CatchUpValues(
        kind=form.kind.data or "",
        on_date=read(date.fromisoformat, form.on_date.data, "on_date",
                     "Enter the date of the catch-up as a real date, for example 2026-03-14."),
        starts_at=read(time.fromisoformat, form.starts_at.data, "starts_at",
                       "Enter the start time as hours and minutes, for example 10:00."),
        ends_at=read(time.fromisoformat, form.ends_at.data, "ends_at",
                     "Enter the end time as hours and minutes, for example 12:00."),
        venue=(form.venue.data or "").strip(),
        note=(form.note.data or "").strip(),
        completed=form.completed.data == "done",
    )
    return values, errors
