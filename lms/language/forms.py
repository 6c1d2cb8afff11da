"""The language practice form."""

from flask_wtf import FlaskForm
from wtforms import TextAreaField


class PracticeForm(FlaskForm):
    text = TextAreaField("Your text", render_kw={"data-language-check": "practice-language"})
