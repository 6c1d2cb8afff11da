"""Forms of the boards. Fields carry no validators: the rules check what was
typed (lms/boards/rules.py) so that every message is the project's own."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.boards import rules


class PostForm(FlaskForm):
    title = StringField("Title", render_kw={"maxlength": rules.MAX_TITLE})
    body = TextAreaField("Your post")
    content_note = StringField("Content note (optional)", render_kw={"maxlength": rules.MAX_CONTENT_NOTE})
    display_mode = RadioField("Show my name as", choices=[SelectChoice(v, label) for v, label in rules.DISPLAY_CHOICES], default=rules.DisplayMode.NAME.value,
                              validate_choice=False)
    pseudonym = StringField("Pseudonym", render_kw={"maxlength": rules.MAX_PSEUDONYM, "autocomplete": "off"})
    quoted_post_id = HiddenField()
    accept_agreement = BooleanField("I have read the community agreement and I will keep to it")


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token and, sometimes, what to do."""

    action = HiddenField()


class AgreementForm(FlaskForm):
    accept_agreement = BooleanField("I have read the community agreement and I will keep to it")


class GroupForm(FlaskForm):
    cohort_id = SelectField("Cohort", coerce=str, validate_choice=False)
    name = StringField("Group name", render_kw={"maxlength": rules.MAX_GROUP_NAME})
    purpose = TextAreaField("What the group is for")
    membership = RadioField("Who can join", choices=[
        SelectChoice("open", "Anyone in the cohort can join"),
        SelectChoice("invite", "Invite only: members invite people"),
    ], default="open", validate_choice=False)


class InviteForm(FlaskForm):
    invitee_id = SelectField("Person to invite", coerce=str, validate_choice=False)


class MoveForm(FlaskForm):
    board_id = RadioField("Move to", coerce=str, validate_choice=False)


class BoardSettingsForm(FlaskForm):
    premoderated = BooleanField("Check new posts before they appear (pre-moderation)")
    allow_pseudonyms = BooleanField("Trainees may post under their first name only or a pseudonym")


def choices(pairs) -> list[SelectChoice]:
    """Choices for a select or radio field from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def as_int(value) -> int | None:
    """A whole number from a form field, or None."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
