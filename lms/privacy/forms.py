"""Forms for personal data pages."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, TextAreaField

from lms.cohorts.forms import choices


class DownloadForm(FlaskForm):
    """Only the CSRF token: the download is a POST so it is never fetched by accident."""


class ErasureRequestForm(FlaskForm):
    note = TextAreaField("Anything you would like the admin to know (optional)")
    confirm = BooleanField("I understand that my account will be closed and my personal data erased, "
                           "and that my results and certificate record are kept under an anonymous name")


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=choices([("approve", "Erase their personal data"),
                                                       ("decline", "Decline the request")]), validate_choice=False)
    note = TextAreaField("Note (needed when declining: the person is told the reason)")
