"""Forms of the reflective diary and the wellness plan.

Fields are checked by the services (lms.diary.services), so the form, the
autosave endpoint and the tests share one set of rules; these classes give
CSRF protection and the labels.
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.diary.services import MOODS, PLAN_SECTIONS


class EntryForm(FlaskForm):
    entry_id = HiddenField()
    title = StringField("Title", render_kw={"autocomplete": "off"})
    entry_date = StringField("Date", render_kw={"type": "date"})
    day_number = SelectField("Course day", choices=[], validate_choice=False)
    prompt = HiddenField()
    body = TextAreaField("Your entry", render_kw={"data-language-check": "body-language", "spellcheck": "true"})
    tags = StringField("Tags (optional)", render_kw={"autocomplete": "off"})
    mood = RadioField("How are you feeling? (optional)", validate_choice=False,
                      choices=[SelectChoice("", "I’d rather not say")]
                      + [SelectChoice(str(n), f"{n} – {words}") for n, words in MOODS.items()])

    def set_days(self, count: int) -> None:
        self.day_number.choices = [SelectChoice("", "Not about a course day")] + [
            SelectChoice(str(n), f"Day {n}") for n in range(1, count + 1)]


class ShareForm(FlaskForm):
    supervisor_id = HiddenField()


class CommentForm(FlaskForm):
    body = TextAreaField("Write a comment", render_kw={"data-language-check": "comment-language"})


class SettingsForm(FlaskForm):
    mood_check_in = BooleanField("Ask how I am feeling when I write an entry")


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for buttons that do one thing."""


def plan_form_class():
    """A form with one text box per wellness plan section (built once, from PLAN_SECTIONS)."""
    fields = {section.key: TextAreaField(section.heading) for section in PLAN_SECTIONS}
    return type("PlanForm", (FlaskForm,), fields)


PlanForm = plan_form_class()
