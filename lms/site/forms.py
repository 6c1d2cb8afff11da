from flask_wtf import FlaskForm
from wtforms import TextAreaField


class SupportPageForm(FlaskForm):
    text = TextAreaField("Support page text (Markdown)")
