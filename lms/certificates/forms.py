"""Forms for certificates. Checks beyond the CSRF token happen in the services."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField


class NameForm(FlaskForm):
    name = StringField("Your name as it should appear on your certificate",
                       render_kw={"autocomplete": "name", "spellcheck": "false"})


class IssueForm(FlaskForm):
    # The number of certificates the admin saw in the preview: issuing goes
    # ahead only if it is still the same.
    expected = HiddenField()
    # While some names are unconfirmed: "confirmed" (issue the others, ask them) or "all" (print LMS names).
    names = HiddenField()


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason for revoking")


class ReissueForm(FlaskForm):
    name = StringField("Name to print on the new certificate", render_kw={"spellcheck": "false"})
    reason = TextAreaField("Reason for reissuing")
