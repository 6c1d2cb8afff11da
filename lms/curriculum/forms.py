"""The one form of the course pages: marking a unit done or not done."""

from flask_wtf import FlaskForm
from wtforms import HiddenField


class UnitDoneForm(FlaskForm):
    """A CSRF-protected POST; ``done`` is "1" to mark the unit done, "0" to undo it."""

    done = HiddenField()
