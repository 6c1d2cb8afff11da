"""Forms for signing in and out, invitations, passwords and the profile.

Checks beyond the CSRF token happen in the services, which return
(field, message) pairs the templates show next to each field.
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from lms.accounts.rules import NOTIFICATION_EMAIL_CHOICES


class SignInForm(FlaskForm):
    # No per-field validators: every failure gets the same message, so the
    # form never reveals whether an account exists.
    email = EmailField("Email", render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField("Password", render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class SignOutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST."""


class SetPasswordForm(FlaskForm):
    """A first password (from an invitation) or a new one (from a reset link)."""

    password = PasswordField("Create a password", render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Type the same password again", render_kw={"autocomplete": "new-password"})


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", render_kw={"autocomplete": "email", "spellcheck": "false"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField("Type the new password again", render_kw={"autocomplete": "new-password"})


class ProfileForm(FlaskForm):
    display_name = StringField("Name", render_kw={"autocomplete": "name"})
    pronouns = StringField("Pronouns (optional)")
    notification_email = RadioField(
        "When would you like e-mails about your notifications?",
        choices=[SelectChoice(value, label) for value, label in NOTIFICATION_EMAIL_CHOICES.items()],
        validate_choice=False)
    larger_text = BooleanField("Larger text")
    reduced_motion = BooleanField("Reduce motion (no animations or smooth scrolling)")


class CoDeliveryForm(FlaskForm):
    """A tutor says, for one cohort, whether they co-deliver from their own lived experience."""

    grant_id = HiddenField()
    peer_trainer = HiddenField()


class InvitePersonForm(FlaskForm):
    name = StringField("Name")
    email = EmailField("Email", render_kw={"spellcheck": "false"})
    # Choices are filled in by the view from the database.
    organisation = SelectField("Organisation (optional)", validate_choice=False)
    role = SelectField("Role (optional)", validate_choice=False)
    cohort = SelectField("Cohort (needed for every role but admin)", validate_choice=False)


class InviteCohortForm(FlaskForm):
    cohort = SelectField("Cohort", validate_choice=False)
    include_already_invited = BooleanField(
        "Also send a new link to people whose invitation has not been used yet (their old link stops working)")


class SendInvitationForm(FlaskForm):
    """Only the CSRF token: sending an invitation again is a POST."""
