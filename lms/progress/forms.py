"""Progress and exam board forms. Each carries a CSRF token; the services check what was entered."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField



class ConsentForm(FlaskForm):
    enrolment_id = HiddenField()
    consented = BooleanField("Let my personal supervisor see my marks")


class NoteForm(FlaskForm):
    text = TextAreaField("Supervision note")


class OptOutForm(FlaskForm):
    choice = StringField("Assessment")  # radios written in the template
    effective_on = StringField("Date the trainee made this choice (YYYY-MM-DD)")
    reason = TextAreaField("Reason")


class TokenForm(FlaskForm):
    name = StringField("Name of the integration")
    email = StringField("Email address of the person the token acts for")
    scopes = StringField("Scopes")  # checkboxes written in the template; the view reads every value


class ConfirmForm(FlaskForm):
    """A button-only form (revoke a token, ratify all)."""

    version = HiddenField()


class OpenBoardForm(FlaskForm):
    cohort_id = StringField("Cohort")  # a <select> written in the template (choices as tuples are deprecated)
    held_on = StringField("Date the board meets (YYYY-MM-DD)")
    members = TextAreaField("Members, one per line")
    comments = TextAreaField("External examiner's comments")


class DecisionForm(FlaskForm):
    version = HiddenField()
    enrolment_id = StringField("Trainee")
    decision = StringField("Decision")
    reason = TextAreaField("Reason (needed to defer or to allow an extra attempt)")


class CorrectionForm(FlaskForm):
    version = HiddenField()
    enrolment_id = StringField("Trainee")
    decision = StringField("Corrected decision")
    award = StringField("Award")
    reason = TextAreaField("Reason for the correction")
