"""Sign in and out, invitations, password reset and change, and the profile."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from lms.accounts import services
from lms.accounts.forms import (
    ChangePasswordForm, CoDeliveryForm, ForgotPasswordForm, InviteCohortForm, InvitePersonForm, ProfileForm,
    SendInvitationForm, SetPasswordForm, SignInForm, SignOutForm,
)
from lms.accounts.rules import NOTIFICATION_EMAIL_CHOICES, LinkState
from lms.authz.access import public, requires
from lms.authz.roles import Role
from lms.extensions import limiter
from lms.site.errors import render_error

bp = Blueprint("accounts", __name__)
NAVIGATION = [
    (85, "Profile", "accounts.profile", None),
    (93, "Invitations", "accounts.invitations", frozenset({Role.ADMIN})),
]

SIGN_IN_FAILED = "The email or password is not right. Check them and try again."


def safe_next(target: str | None) -> str | None:
    """Only a path on this site may be a redirect target after sign-in."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    errors = []
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(form.email.data or "", form.password.data or "",
                                       request.remote_addr or "")
        if result.ok:
            session.regenerate()
            login_user(result.user)
            return redirect(safe_next(form.next.data) or url_for("site.home"))
        if result.throttled:
            errors.append(("email", result.throttled.message))
            status = 429
        else:
            errors.append(("email", SIGN_IN_FAILED))
    form.password.data = ""
    return render_template("accounts/sign_in.html", form=form, errors=errors), status


@bp.route("/sign-out", methods=["POST"])
@public
def sign_out():
    form = SignOutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        logout_user()
        session.end()
        flash("You have signed out. Take care.", "success")
    return redirect(url_for("accounts.sign_in"))


@bp.app_context_processor
def interface_preferences():
    """Every page's ``<html>`` carries the signed-in person's interface preferences."""
    return {"preference_classes": services.interface_classes(current_user)}


# Pages reached by a secret link: never kept by browsers or proxies, even before sign-in.
TOKEN_PAGES = frozenset({"accounts.accept_invitation", "accounts.reset_password"})


@bp.after_request
def do_not_store_token_pages(response):
    if request.endpoint in TOKEN_PAGES:
        response.headers["Cache-Control"] = "no-store"
    return response


def _sign_in_fresh(user) -> None:
    """Sign ``user`` in on a new session id (their other sessions are already ended)."""
    if current_user.is_authenticated:
        logout_user()
    session.regenerate()
    login_user(user)


# What a link that no longer works tells the person: (status, title, what happened, what to do).
INVITATION_PROBLEMS = {
    LinkState.UNKNOWN: (400, "This invitation link is not right",
                        "The link may have been cut short or changed when it was copied.",
                        "Open the link straight from the invitation e-mail. If that does not work, "
                        "ask your course admin to send you a new invitation."),
    LinkState.USED: (410, "This invitation has already been used",
                     "Each invitation link works once, and this one has been used to set a password.",
                     "If you set your password, sign in. If you have forgotten it, use “Forgotten your "
                     "password?” on the sign-in page. If you did not use this link, tell your course admin."),
    LinkState.REPLACED: (410, "This invitation link has been replaced",
                         "A newer invitation has been sent to you, so this older link no longer works.",
                         "Use the link in the most recent invitation e-mail, or ask your course admin to "
                         "send you a new invitation."),
    LinkState.EXPIRED: (410, "This invitation has expired",
                        "Invitation links last 7 days, and this one has run out.",
                        "Ask your course admin to send you a new invitation."),
    LinkState.INACTIVE: (410, "This account is not active",
                         "The account this invitation was for has been closed.",
                         "If you think this is a mistake, contact your course admin."),
}

RESET_PROBLEMS = {
    LinkState.UNKNOWN: (400, "This password reset link is not right",
                        "The link may have been cut short or changed when it was copied.",
                        "Open the link straight from the e-mail, or ask for a new link."),
    LinkState.USED: (410, "This password reset link has already been used",
                     "Each reset link works once, and this one has been used.",
                     "If you chose a new password, sign in with it. Otherwise, ask for a new link."),
    LinkState.REPLACED: (410, "This password reset link no longer works",
                         "Your password has been set since this link was sent, so the link has stopped working.",
                         "Sign in with your password, or ask for a new link if you have forgotten it."),
    LinkState.EXPIRED: (410, "This password reset link has expired",
                        "Reset links last 1 hour, and this one has run out.",
                        "Ask for a new link: it only takes a moment."),
    LinkState.INACTIVE: (410, "This account is not active",
                         "The account this link was for has been closed.",
                         "If you think this is a mistake, contact your course admin."),
}


def _link_problem(problems, state, kind: str):
    status, title, what, next_step = problems[state]
    return render_template("accounts/link_problem.html", title=title, what=what, next_step=next_step,
                           kind=kind), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token):
    form = SetPasswordForm()
    errors = []
    if form.validate_on_submit():
        check, errors = services.accept_invitation(token, form.password.data or "", form.confirm.data or "")
        if check.ok and not errors:
            _sign_in_fresh(check.user)
            flash(f"Welcome, {check.user.display_name}. Your password is set and you are signed in.", "success")
            return redirect(url_for("site.home"))
    else:
        check = services.check_invitation(token)
    if not check.ok:
        return _link_problem(INVITATION_PROBLEMS, check.state, "invitation")
    form.password.data = form.confirm.data = ""
    return render_template("accounts/set_password.html", form=form, errors=errors, person=check.user,
                           invitation=True), 400 if errors else 200


@bp.errorhandler(RateLimitExceeded)
def too_many_requests(error):
    """Explain a paused form in its own words (only the reset request is limited here)."""
    if request.endpoint == "accounts.forgot_password":
        return render_template("accounts/forgot_password.html", form=ForgotPasswordForm(), errors=[],
                               too_many=True), 429
    return render_error(429)


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit("5 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    errors = []
    if form.validate_on_submit():
        email = services.normalise_email(form.email.data or "")
        if not email:
            errors.append(("email", "Enter the email address you use for the course."))
        else:
            services.request_password_reset(email)
            return render_template("accounts/reset_requested.html", email=email)
    return render_template("accounts/forgot_password.html", form=form, errors=errors,
                           too_many=False), 400 if errors else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token):
    form = SetPasswordForm()
    errors = []
    if form.validate_on_submit():
        check, errors = services.complete_password_reset(token, form.password.data or "", form.confirm.data or "")
        if check.ok and not errors:
            _sign_in_fresh(check.user)
            flash("Your new password is set and you are signed in. "
                  "Any other devices and browsers you were signed in on have been signed out.", "success")
            return redirect(url_for("site.home"))
    else:
        check = services.check_reset(token)
    if not check.ok:
        return _link_problem(RESET_PROBLEMS, check.state, "reset")
    form.password.data = form.confirm.data = ""
    return render_template("accounts/set_password.html", form=form, errors=errors, person=check.user,
                           invitation=False), 400 if errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
@requires()
def change_password():
    form = ChangePasswordForm()
    errors = []
    if form.validate_on_submit():
        errors = services.change_password(
            current_user, current=form.current_password.data or "", new=form.new_password.data or "",
            confirm=form.confirm_password.data or "", keep_token=session.token, address=request.remote_addr or "")
        if not errors:
            flash("Your password has been changed. You have been signed out on every other device and browser.",
                  "success")
            return redirect(url_for("accounts.profile"))
    form.current_password.data = form.new_password.data = form.confirm_password.data = ""
    return render_template("accounts/change_password.html", form=form, errors=errors), 400 if errors else 200


@bp.route("/profile", methods=["GET", "POST"])
@requires()
def profile():
    form = ProfileForm()
    errors = []
    if form.validate_on_submit():
        errors = services.update_profile(
            current_user, display_name=form.display_name.data, pronouns=form.pronouns.data,
            notification_email=form.notification_email.data or "", larger_text=form.larger_text.data,
            reduced_motion=form.reduced_motion.data)
        if not errors:
            flash("Your profile has been saved.", "success")
            return redirect(url_for("accounts.profile"))
    elif not form.is_submitted():
        form.display_name.data = current_user.display_name
        form.pronouns.data = current_user.pronouns or ""
        form.notification_email.data = current_user.notification_email
        form.larger_text.data = current_user.prefers_larger_text
        form.reduced_motion.data = current_user.prefers_reduced_motion
    return render_template("accounts/profile.html", form=form, errors=errors,
                           email_choices=NOTIFICATION_EMAIL_CHOICES, co_delivery=services.tutor_grants(current_user),
                           co_delivery_form=CoDeliveryForm()), 400 if errors else 200


@bp.route("/profile/co-delivery", methods=["POST"])
@requires(Role.TUTOR)
def co_delivery():
    form = CoDeliveryForm()
    if form.validate_on_submit():
        chosen = form.peer_trainer.data == "yes"
        _, cohort = services.set_own_co_delivery(current_user, form.grant_id.data, chosen)
        flash(f"Staff of {cohort.name} now see that you co-deliver it from your own lived experience." if chosen
              else f"{cohort.name} no longer shows you as co-delivering from lived experience.", "success")
    return redirect(url_for("accounts.profile", _anchor="co-delivery"))


# Admin pages for invitations.

INVITABLE_ROLES = [Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR, Role.ADMIN]


def _as_id(value) -> int | None:
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return -1  # not a real id: the service says "choose from the list"


def _cohort_choices(blank: str):
    return [SelectChoice("", blank)] + [
        SelectChoice(str(cohort.id), cohort.name) for cohort in services.cohorts_to_invite()]


@bp.route("/admin/invitations")
@requires(Role.ADMIN)
def invitations():
    people, total = services.awaiting_password()
    return render_template("accounts/invitations.html", people=people, total=total, form=SendInvitationForm(),
                           LinkState=LinkState)


@bp.route("/admin/invitations/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def invite_person():
    form = InvitePersonForm()
    form.organisation.choices = [SelectChoice("", "None")] + [
        SelectChoice(str(organisation.id), organisation.name) for organisation in services.organisations_to_choose()]
    form.role.choices = [SelectChoice("", "No role yet")] + [
        SelectChoice(role.value, role.label) for role in INVITABLE_ROLES]
    form.cohort.choices = _cohort_choices("None")
    errors = []
    if form.validate_on_submit():
        outcome = services.invite_person(
            current_user, email=form.email.data or "", name=form.name.data or "",
            organisation_id=_as_id(form.organisation.data), role=form.role.data or None,
            cohort_id=_as_id(form.cohort.data))
        if not outcome.errors:
            flash(f"An invitation has been sent to {outcome.invitation.email}. "
                  "The link works once and lasts 7 days.", "success")
            return redirect(url_for("accounts.invitations"))
        errors = outcome.errors
    return render_template("accounts/invite_person.html", form=form, errors=errors), 400 if errors else 200


@bp.route("/admin/invitations/cohort", methods=["GET", "POST"])
@requires(Role.ADMIN)
def invite_cohort():
    form = InviteCohortForm()
    form.cohort.choices = _cohort_choices("Choose a cohort")
    errors = []
    if form.validate_on_submit():
        cohort_id = _as_id(form.cohort.data)
        if not cohort_id or str(cohort_id) not in {choice.value for choice in form.cohort.choices}:
            errors.append(("cohort", "Choose the cohort whose people you want to invite."))
        else:
            result = services.invite_cohort(current_user, cohort_id,
                                            include_already_invited=form.include_already_invited.data)
            sent = len(result.sent)
            message = (f"Invitations sent to {sent} {'person' if sent == 1 else 'people'}." if sent
                       else "Nobody needed an invitation: everyone in this cohort has set a password "
                            "or has an invitation that still works.")
            if sent and result.already_invited:
                message += (f" {result.already_invited} already had an invitation that still works, "
                            "so they were not sent another.")
            flash(message, "success")
            return redirect(url_for("accounts.invitations"))
    return render_template("accounts/invite_cohort.html", form=form, errors=errors), 400 if errors else 200


@bp.route("/admin/invitations/<int:user_id>/send", methods=["POST"])
@requires(Role.ADMIN)
def resend_invitation(user_id):
    if SendInvitationForm().validate_on_submit():
        try:
            invitation = services.resend_invitation(current_user, user_id)
        except services.InvitationRefused as refused:
            flash(str(refused), "error")
        else:
            flash(f"A new invitation has been sent to {invitation.email}. Any earlier link no longer works.",
                  "success")
    return redirect(url_for("accounts.invitations"))
