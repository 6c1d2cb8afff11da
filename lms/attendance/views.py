"""Attendance pages: registers, self check-in, the cohort grid, catch-ups, and the calendar feed."""

from __future__ import annotations

import segno
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from lms.attendance import calendar as feeds
from lms.attendance import services
from lms.attendance.forms import (
    DONE_CHOICES,
    KIND_CHOICES,
    CalendarForm,
    CatchUpForm,
    CheckInForm,
    NewCodeForm,
    RegisterForm,
    RemoveCatchUpForm,
    SettingsForm,
    catch_up_values,
    register_submission,
    register_version,
)
from lms.attendance.policies import EVERY_ROLE, FOLLOWS_TRAINEES, RUNS_COHORTS
from lms.attendance.rules import Status
from lms.authz.access import public, requires
from lms.authz.roles import Role
from lms.database import utcnow

bp = Blueprint("attendance", __name__)
NAVIGATION = [(30, "Attendance", "attendance.index", EVERY_ROLE)]


@bp.app_template_global()
def attendance_labels():
    """Words and symbols for register statuses, for every attendance template."""
    return {"status": services.STATUS_LABELS, "symbol": services.STATUS_SYMBOLS,
            "caught_up": services.CAUGHT_UP_SYMBOL, "enrolment": services.ENROLMENT_LABELS,
            "cell_text": services.cell_text, "cell_symbol": services.cell_symbol,
            "day_title": services.day_title, "statuses": list(Status)}


def wrong_cohort_page():
    return render_template("errors/error.html", code=404, title="Page not found",
                           message=services.WrongCohort.message), 404


@bp.errorhandler(services.WrongCohort)
def _wrong_cohort(error):
    return wrong_cohort_page()


@bp.route("/attendance")
@requires(*EVERY_ROLE)
def index():
    now = utcnow()
    return render_template("attendance/index.html", overview=services.overview_for(current_user, now), now=now)


@bp.route("/attendance/cohorts/<slug>")
@requires(*RUNS_COHORTS)
def cohort_grid(slug):
    cohort = services.cohort_to_run(current_user, slug)
    sort = request.args.get("sort", "name")
    descending = request.args.get("order") == "desc"
    grid = services.cohort_grid(current_user, cohort, sort, descending)
    return render_template("attendance/grid.html", grid=grid, now=utcnow())


@bp.route("/attendance/cohorts/<slug>/attendance.csv")
@requires(*RUNS_COHORTS)
def cohort_csv(slug):
    cohort = services.cohort_to_run(current_user, slug)
    text = services.grid_csv(services.cohort_grid(current_user, cohort))
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="attendance-{cohort.slug}.csv"'})


@bp.route("/attendance/cohorts/<slug>/settings", methods=["GET", "POST"])
@requires(*RUNS_COHORTS)
def cohort_settings(slug):
    cohort = services.cohort_to_run(current_user, slug)
    settings = services.cohort_settings(cohort)
    form = SettingsForm()
    errors = []
    if form.validate_on_submit():
        raw = (form.check_in_minutes.data or "").strip()
        try:
            minutes = int(raw)
        except ValueError:
            errors.append(("check_in_minutes", "Enter how many minutes check-in stays open, as a whole number "
                                               "between 15 and 240."))
        else:
            try:
                services.save_settings(current_user, cohort, form.self_check_in.data, minutes)
            except ValueError as problem:
                errors.append(("check_in_minutes", str(problem)))
            else:
                flash("The attendance settings have been saved.", "success")
                return redirect(url_for("attendance.cohort_grid", slug=cohort.slug))
    elif not form.is_submitted():
        form.self_check_in.data = settings.self_check_in
        form.check_in_minutes.data = str(settings.check_in_minutes)
    return render_template("attendance/settings.html", cohort=cohort, form=form, errors=errors), \
        400 if errors else 200


def _register_response(cohort, day, *, form=None, errors=(), entered=None, conflict=None, status=200,
                       prefill_present=False):
    page = services.register_page(current_user, cohort, day, utcnow())
    form = form or RegisterForm()
    form.version.data = str(page.version)
    return render_template("attendance/register.html", page=page, form=form, errors=list(errors),
                           entered=entered or {}, conflict=conflict, prefill_present=prefill_present,
                           now=utcnow()), status


@bp.route("/attendance/cohorts/<slug>/days/<int:day_id>/register", methods=["GET", "POST"])
@requires(*RUNS_COHORTS)
def register(slug, day_id):
    cohort = services.cohort_to_run(current_user, slug)
    day = services.day_of(cohort, day_id)
    if request.method == "GET":
        return _register_response(cohort, day, prefill_present=request.args.get("prefill") == "present")
    form = RegisterForm()
    form.validate_on_submit()  # CSRF is checked for every POST; the service checks the rest
    submitted = register_submission(request.form)
    try:
        saved = services.save_register(current_user, cohort, day, submitted, register_version(form),
                                       form.change_reason.data or "", utcnow())
    except services.RegisterRefused as refused:
        return _register_response(cohort, day, form=form, errors=refused.errors, entered=submitted, status=400)
    except services.RegisterConflict as conflict:
        return _register_response(cohort, day, conflict=conflict, status=409, errors=[("register", (
            "Someone else saved this register while you had it open, so your changes have not been saved. "
            "The register below is as it is now: check it, then make your changes again."))])
    if saved.changed:
        flash(f"The register for day {day.number} has been saved.", "success")
    else:
        flash(f"The register for day {day.number} is saved: there was nothing new to save.", "success")
    return redirect(url_for("attendance.register", slug=cohort.slug, day_id=day.id))


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of ``url`` (no script, no external image)."""
    svg = segno.make(url, error="m").svg_inline(scale=6, dark="#0b0c0c", light="#ffffff",
                                                  title="QR code of the check-in page")
    # segno writes its own markup; it holds nothing from users but the URL we built.
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code of the check-in page" ', 1))


@bp.route("/attendance/cohorts/<slug>/days/<int:day_id>/check-in-code")
@requires(*RUNS_COHORTS)
def check_in_code(slug, day_id):
    cohort = services.cohort_to_run(current_user, slug)
    day = services.day_of(cohort, day_id)
    page = services.register_page(current_user, cohort, day, utcnow())
    now = utcnow()
    code = page.check_in
    usable = code is not None and now < code.closes_at and page.settings.self_check_in
    url = (current_app.config["LMS_BASE_URL"].rstrip("/") + url_for("attendance.check_in", code=code.code)) \
        if usable else None
    return render_template("attendance/check_in_code.html", page=page, code=code if usable else None, url=url,
                           qr=qr_svg(url) if url else None, form=NewCodeForm(), errors=[], now=now,
                           check_in_address=current_app.config["LMS_BASE_URL"].rstrip("/")
                           + url_for("attendance.check_in"))


@bp.route("/attendance/cohorts/<slug>/days/<int:day_id>/check-in-code", methods=["POST"])
@requires(*RUNS_COHORTS)
def new_check_in_code(slug, day_id):
    cohort = services.cohort_to_run(current_user, slug)
    day = services.day_of(cohort, day_id)
    NewCodeForm().validate_on_submit()
    try:
        services.open_check_in(current_user, cohort, day, utcnow())
    except services.CheckInRefused as refused:
        page = services.register_page(current_user, cohort, day, utcnow())
        return render_template("attendance/check_in_code.html", page=page, code=None, url=None, qr=None,
                               form=NewCodeForm(), errors=[("new-code", refused.message)], now=utcnow()), 400
    return redirect(url_for("attendance.check_in_code", slug=cohort.slug, day_id=day.id))


@bp.route("/attendance/check-in", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def check_in():
    form = CheckInForm()
    if request.method == "GET":
        form.code.data = services.normalise_code(request.args.get("code", ""))[:12]
        return render_template("attendance/check_in.html", form=form, errors=[], checked_in=None)
    form.validate_on_submit()
    try:
        result = services.check_in(current_user, form.code.data or "", utcnow())
    except services.CheckInRefused as refused:
        return render_template("attendance/check_in.html", form=form, errors=[("code", refused.message)],
                               checked_in=None), refused.status
    return render_template("attendance/check_in.html", form=CheckInForm(formdata=None), errors=[],
                           checked_in=result)


@bp.route("/attendance/cohorts/<slug>/trainees/<int:trainee_id>")
@requires(*FOLLOWS_TRAINEES)
def trainee(slug, trainee_id):
    attendance = services.trainee_attendance(current_user, slug, trainee_id)
    titles = services.day_titles(attendance.cohort.course_slug)
    return render_template("attendance/trainee.html", attendance=attendance, titles=titles,
                           can_run=services.can_take_register(current_user, attendance.cohort))


@bp.route("/attendance/cohorts/<slug>/trainees/<int:trainee_id>/days/<int:day_id>/catch-up",
          methods=["GET", "POST"])
@requires(*RUNS_COHORTS)
def catch_up(slug, trainee_id, day_id):
    cohort = services.cohort_to_run(current_user, slug)
    day = services.day_of(cohort, day_id)
    page = services.catch_up_page(current_user, cohort, trainee_id, day)
    form = CatchUpForm()
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        form.validate_on_submit()
        if request.form.get("action") == "remove":
            services.remove_catch_up(current_user, cohort, trainee_id, day)
            flash("The catch-up has been removed.", "success")
            return redirect(url_for("attendance.trainee", slug=cohort.slug, trainee_id=trainee_id))
        values, errors = catch_up_values(form)
        if not errors:
            try:
                services.save_catch_up(current_user, cohort, trainee_id, day, values, utcnow())
            except services.CatchUpRefused as refused:
                errors = refused.errors
            else:
                flash("The catch-up has been saved." if not values.completed
                      else "The catch-up is confirmed and now counts towards attendance, within the course's rules.",
                      "success")
                return redirect(url_for("attendance.trainee", slug=cohort.slug, trainee_id=trainee_id))
    elif page.catch_up is not None:
        existing = page.catch_up
        form.kind.data = existing.kind
        form.on_date.data = existing.on_date.isoformat()
        form.starts_at.data = existing.starts_at.strftime("%H:%M") if existing.starts_at else ""
        form.ends_at.data = existing.ends_at.strftime("%H:%M") if existing.ends_at else ""
        form.venue.data = existing.venue
        form.note.data = existing.note
        form.completed.data = "done" if existing.completed else "arranged"
    return render_template("attendance/catch_up.html", page=page, form=form, remove_form=RemoveCatchUpForm(),
                           errors=errors, kind_choices=KIND_CHOICES, done_choices=DONE_CHOICES), \
        400 if errors else 200


@bp.route("/calendar")
@requires()
def calendar():
    return render_template("attendance/calendar.html", link=feeds.calendar_link(current_user), new_url=None,
                           form=CalendarForm())


@bp.route("/calendar/link", methods=["POST"])
@requires()
def calendar_link():
    CalendarForm().validate_on_submit()
    token = feeds.new_calendar_link(current_user)
    return render_template("attendance/calendar.html", link=feeds.calendar_link(current_user),
                           new_url=feeds.feed_url(token), form=CalendarForm())


@bp.route("/calendar/revoke", methods=["POST"])
@requires()
def calendar_revoke():
    CalendarForm().validate_on_submit()
    if feeds.revoke_calendar_link(current_user):
        flash("Your calendar link has been stopped. Calendars using it will no longer update.", "success")
    return redirect(url_for("attendance.calendar"))


@bp.route("/calendar/<token>.ics")
@public
def calendar_feed(token):
    owner = feeds.feed_owner(token)
    if owner is None:
        abort(404)
    return Response(feeds.feed_for(owner), mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="peer-support-training.ics"',
        "Cache-Control": "private, no-store",
    })
