"""Forms for cohorts, their schedule, roles, enrolment and the import upload.

The fields carry no validators of their own: the pure rules in
``lms.cohorts.rules`` and the services decide, so that the web, the upload
form and the CLI all give the same messages. ``validate_on_submit`` checks
the CSRF token.
"""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import DateInput, NumberInput, TimeInput

from lms.cohorts.rules import ACTION_LABELS, COHORT_STATUSES


def choices(pairs) -> list[SelectChoice]:
    """Options for a select or radio field from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class CohortForm(FlaskForm):
    course_slug = SelectField("Course", validate_choice=False)
    name = StringField("Name", render_kw={"autocomplete": "off"})
    slug = StringField("Short name (for web addresses)", render_kw={"autocomplete": "off", "spellcheck": "false"})
    start_date = StringField("Start date", widget=DateInput())
    capacity = StringField("Places", widget=NumberInput(min=1), default="16")
    status = SelectField("Status", choices=choices((s, s.capitalize()) for s in COHORT_STATUSES), validate_choice=False)
    version = HiddenField()
    snapshot = HiddenField()


class DayForm(Form):
    """One course day in the schedule form (a sub-form: the parent carries the CSRF token)."""

    date = StringField("Date", widget=DateInput())
    starts_at = StringField("Starts", widget=TimeInput())
    ends_at = StringField("Ends", widget=TimeInput())
    venue = StringField("Venue or online link")


class ScheduleForm(FlaskForm):
    days = FieldList(FormField(DayForm))
    version = HiddenField()
    snapshot = HiddenField()


class GrantRoleForm(FlaskForm):
    email = StringField("Email", render_kw={"autocomplete": "off", "spellcheck": "false"})
    role = SelectField("Role", choices=choices([("tutor", "Tutor"), ("academic_supervisor", "Academic supervisor"),
                                                ("personal_supervisor", "Personal supervisor"),
                                                ("external_examiner", "External examiner")]), validate_choice=False)
    lead = BooleanField("Make them the lead tutor")
    peer_trainer = BooleanField("They co-deliver from their own lived experience (a peer trainer)")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class PeerTrainerForm(FlaskForm):
    """Record whether a tutor co-delivers from lived experience."""

    peer_trainer = HiddenField()


class EnrolForm(FlaskForm):
    email = StringField("Email", render_kw={"autocomplete": "off", "spellcheck": "false"})
    name = StringField("Name (only for someone new)", render_kw={"autocomplete": "off"})
    organisation = SelectField("Organisation they work for", validate_choice=False)
    academic_supervisor = SelectField("Academic supervisor", validate_choice=False)
    personal_supervisor = SelectField("Personal supervisor", validate_choice=False)
    invite = BooleanField("Send someone new an invitation to set their password", default=True)


class SupervisorsForm(FlaskForm):
    academic_supervisor = SelectField("Academic supervisor", validate_choice=False)
    personal_supervisor = SelectField("Personal supervisor", validate_choice=False)


class StatusForm(FlaskForm):
    action = RadioField("What is changing?", validate_choice=False,
                        choices=choices(ACTION_LABELS.items()))
    target_cohort = SelectField("Cohort they are moving to", validate_choice=False)
    on_date = StringField("Date it takes effect", widget=DateInput())
    reason = TextAreaField("Reason")


class ImportForm(FlaskForm):
    file = FileField("CSV file", render_kw={"accept": ".csv,text/csv"})
    invite = BooleanField("Send each new person an invitation to set their password", default=True)
