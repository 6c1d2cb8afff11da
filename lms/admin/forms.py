"""Forms for the admin pages; the rules and services decide what is right, the forms carry CSRF."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField

from lms.admin.rules import ORGANISATION_KINDS
from lms.cohorts.forms import choices


class OrganisationForm(FlaskForm):
    name = StringField("Name", render_kw={"autocomplete": "organization"})
    kind = SelectField("Kind of organisation", choices=choices(ORGANISATION_KINDS.items()), validate_choice=False)
    contact_email = EmailField("Contact email (optional)", render_kw={"autocomplete": "off", "spellcheck": "false"})


class PersonForm(FlaskForm):
    display_name = StringField("Name", render_kw={"autocomplete": "off"})
    organisation = SelectField("Organisation", validate_choice=False)


class DeactivateForm(FlaskForm):
    reason = TextAreaField("Reason (optional, kept in the audit log)")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
