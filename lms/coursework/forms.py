"""Forms of the assignment pages.

The services check every value and answer in plain words, so these forms
carry the CSRF token and the fields, without validators of their own. The
rubric grid has one band, mark and comment per criterion; its fields are
read by `criteria_from`.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, HiddenField, MultipleFileField, StringField, TextAreaField

from lms.coursework.marking import CriterionEntry
from lms.coursework.services import CLAIM_CATEGORIES


class SubmissionForm(FlaskForm):
    text = TextAreaField("Your assignment")
    files = MultipleFileField("Upload files")
    declaration = BooleanField("I confirm this is my own work, and that I have said where I used other "
                               "people's words and ideas.")


class AutosaveForm(FlaskForm):
    text = TextAreaField()


class PlainForm(FlaskForm):
    """A form with only its CSRF token (remove, release, allocate, sample)."""


class VersionForm(FlaskForm):
    version = HiddenField()


class ExtensionRequestForm(FlaskForm):
    working_days = StringField("How many working days do you need?", render_kw={"inputmode": "numeric"})
    reason = TextAreaField("Why do you need more time?")
    evidence = FileField("Evidence (optional)")


class MitigationForm(FlaskForm):
    # Radios are drawn by the template from CHOICES (WTForms' RadioField tuples are deprecated).
    category = StringField("What best describes what happened?")
    CHOICES = list(CLAIM_CATEGORIES.items())
    details = TextAreaField("What happened, and how did it affect your work?")
    evidence = FileField("Evidence (optional)")


class ExtensionDecisionForm(FlaskForm):
    decision = StringField("Your decision")
    CHOICES = [("approve", "Approve as asked"), ("shorten", "Approve a shorter extension"), ("decline", "Decline")]
    working_days = StringField("Working days to give (for a shorter extension)")
    message = TextAreaField("Message for the trainee")


class ClaimDecisionForm(FlaskForm):
    decision = StringField("Decision")
    CHOICES = [("accept", "Accept"), ("reject", "Reject")]
    exceptional = BooleanField("Accept exceptionally (the claim was made after the work was submitted)")
    reason = TextAreaField("Reason")


class FirstMarkingForm(FlaskForm):
    version = HiddenField()
    overall = StringField("Overall mark, if different from the rubric's")
    override_reason = TextAreaField("Reason for changing the mark")
    feedback = TextAreaField("Feedback for the trainee (Markdown)",
                             render_kw={"data-language-check": "feedback-language", "spellcheck": "true"})
    feedback_file = FileField("Annotated feedback file (optional)")


class ModerationMarkForm(FlaskForm):
    version = HiddenField()
    mark = StringField("Your mark")
    comment = TextAreaField("Your comments for the marking team")


class AgreeForm(FlaskForm):
    version = HiddenField()
    agreed_mark = StringField("Agreed mark")
    rationale = TextAreaField("How the mark was agreed")


class AllocateScriptForm(FlaskForm):
    stage = HiddenField()
    marker = StringField("Marker")


class SettingsForm(FlaskForm):
    version = HiddenField()
    due_date = StringField("Due date", render_kw={"type": "date"})
    due_time = StringField("Due time", render_kw={"type": "time"})
    cut_off_date = StringField("Cut-off date", render_kw={"type": "date"})
    cut_off_time = StringField("Cut-off time", render_kw={"type": "time"})
    marks_due_date = StringField("Marking due by", render_kw={"type": "date"})
    anonymous = BooleanField("Anonymous marking: markers see candidate numbers, not names, until release")
    second_marker_sees_first_mark = BooleanField("Second markers see the first mark while they mark "
                                                 "(leave unticked for blind second marking)")
    tolerance = StringField("Tolerance before a third marker is needed (marks)")


class CorrectionForm(FlaskForm):
    version = HiddenField()
    new_mark = StringField("Corrected mark")
    reason = TextAreaField("Reason for the correction")


class ExaminerCommentForm(FlaskForm):
    submission_id = HiddenField()
    body = TextAreaField("Your comment")


def criteria_from(form_data, rubric: list[dict]) -> dict[str, CriterionEntry]:
    """Read the rubric grid: `band-<id>`, `mark-<id>` and `comment-<id>` for each criterion."""
    return {
        criterion["id"]: CriterionEntry(
            band=form_data.get(f"band-{criterion['id']}") or None,
            mark=form_data.get(f"mark-{criterion['id']}") or None,
            comment=form_data.get(f"comment-{criterion['id']}") or "",
        )
        for criterion in rubric
    }
