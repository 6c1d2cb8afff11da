"""Admin pages for cohorts: the list, details, schedule, tutors and roles, enrolment and the CSV import."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.authz.access import requires
from lms.authz.roles import Role
from lms.cohorts import bulk_import, rules, services
from lms.cohorts.forms import (ActionForm, choices, CohortForm, EnrolForm, GrantRoleForm, ImportForm, PeerTrainerForm,
                               ScheduleForm, StatusForm, SupervisorsForm)

bp = Blueprint("cohorts", __name__)
NAVIGATION = [(64, "Cohorts", "cohorts.cohorts", frozenset({Role.ADMIN}))]
ADMIN = Role.ADMIN


def _errors(problems) -> list[tuple[str, str]]:
    return [(problem.field, problem.message) for problem in problems]


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------
# List and create
# ---------------------------------------------------------------------------

@bp.route("/admin/cohorts")
@requires(ADMIN)
def cohorts():
    q = request.args.get("q", "")[:200]
    status = request.args.get("status", "")
    sort = request.args.get("sort", "start")
    page, taken = services.list_cohorts(current_user, q=q, status=status, sort=sort,
                                        page=services.page_number(request.args.get("page")))
    return render_template("cohorts/list.html", page=page, taken=taken, q=q, status=status, sort=sort,
                           statuses=rules.COHORT_STATUSES, status_labels=services.STATUS_LABELS)


def _course_choices(form: CohortForm, courses) -> None:
    form.course_slug.choices = choices([("", "Choose a course")] + [
        (course.slug, f"{course.title} ({course.days} days)") for course in courses.values()])


def _details(form: CohortForm) -> rules.CohortDetails:
    return rules.CohortDetails(
        course_slug=form.course_slug.data or "", name=form.name.data or "", slug=form.slug.data or "",
        start_date=form.start_date.data or "", capacity=form.capacity.data or "", status=form.status.data or "")


@bp.route("/admin/cohorts/new", methods=["GET", "POST"])
@requires(ADMIN)
def new_cohort():
    courses = services.available_courses()
    form = CohortForm()
    _course_choices(form, courses)
    errors = []
    if form.validate_on_submit():
        cohort, problems = services.create_cohort(current_user, _details(form))
        if cohort is not None:
            flash(f"The cohort {cohort.name} has been created. Now set the dates of its course days.", "success")
            return redirect(url_for("cohorts.schedule", slug=cohort.slug))
        errors = _errors(problems)
    elif form.is_submitted():
        errors = [("name", "This form has expired. Check the details and save again.")]
    elif len(courses) == 1:
        form.course_slug.data = next(iter(courses))
    return render_template("cohorts/cohort_form.html", form=form, errors=errors, cohort=None), 400 if errors else 200


# ---------------------------------------------------------------------------
# The cohort page
# ---------------------------------------------------------------------------

def _cohort_page(slug: str, *, grant_form=None, errors=None, status=200):
    page = services.cohort_page(current_user, slug)
    return render_template(
        "cohorts/cohort.html", page=page, cohort=page.cohort, grant_form=grant_form or GrantRoleForm(),
        errors=errors or [], status_labels=rules.STATUS_LABELS,
        cohort_status_labels=services.STATUS_LABELS,
    ), status


@bp.route("/admin/cohorts/<slug>")
@requires(ADMIN)
def cohort(slug):
    return _cohort_page(slug)


@bp.route("/admin/cohorts/<slug>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def edit_cohort(slug):
    cohort = services.get_cohort(current_user, slug)
    courses = services.available_courses()
    form = CohortForm()
    _course_choices(form, courses)
    if cohort.course_slug not in courses:
        form.course_slug.choices += choices([(cohort.course_slug, cohort.course_slug)])
    errors, conflict = [], None
    if form.validate_on_submit():
        outcome = services.update_cohort(current_user, cohort, _details(form), version=_int_or_none(form.version.data),
                                         snapshot=services.read_snapshot(form.snapshot.data))
        if outcome.ok:
            flash("The cohort's details have been saved.", "success")
            return redirect(url_for("cohorts.cohort", slug=cohort.slug))
        errors, conflict = _errors(outcome.problems), outcome.conflict
        if conflict:
            # Keep what this person typed; the next save, made knowingly, goes through.
            form.version.data = str(conflict.version)
            form.snapshot.data = services.sign_snapshot(services.cohort_values(cohort))
    elif form.is_submitted():
        errors = [("name", "This form has expired. Check the details and save again.")]
    else:
        form.process(data={**services.cohort_values(cohort), "version": cohort.version,
                           "snapshot": services.sign_snapshot(services.cohort_values(cohort))})
        _course_choices(form, courses)
        if cohort.course_slug not in courses:
            form.course_slug.choices += choices([(cohort.course_slug, cohort.course_slug)])
    status = 409 if conflict else 400 if errors else 200
    return render_template("cohorts/cohort_form.html", form=form, errors=errors, cohort=cohort,
                           conflict=conflict), status


# ---------------------------------------------------------------------------
# The schedule
# ---------------------------------------------------------------------------

@bp.route("/admin/cohorts/<slug>/schedule", methods=["GET", "POST"])
@requires(ADMIN)
def schedule(slug):
    cohort = services.get_cohort(current_user, slug)
    expected = services.course_days(cohort.course_slug) or len(cohort.days)
    form = ScheduleForm()
    errors, conflict = [], None
    if form.validate_on_submit():
        entries = [rules.DayEntry(entry.date.data or "", entry.starts_at.data or "", entry.ends_at.data or "",
                                  entry.venue.data or "") for entry in form.days]
        outcome = services.save_schedule(current_user, cohort, entries, version=_int_or_none(form.version.data),
                                         snapshot=services.read_snapshot(form.snapshot.data))
        if outcome.ok:
            message = "The schedule has been saved."
            if outcome.notified:
                message += f" {outcome.notified} people enrolled or teaching have been told about the changed days."
            flash(message, "success")
            return redirect(url_for("cohorts.cohort", slug=cohort.slug))
        errors, conflict = _errors(outcome.problems), outcome.conflict
        if conflict:
            form.version.data = str(conflict.version)
            form.snapshot.data = services.sign_snapshot(services.schedule_values(cohort))
    elif form.is_submitted():
        errors = [("days", "This form has expired. Check the days and save again.")]
    else:
        entries = services.suggested_schedule(cohort, expected)
        form.process(data={
            "days": [{"date": e.date, "starts_at": e.starts_at, "ends_at": e.ends_at, "venue": e.venue} for e in entries],
            "version": cohort.version, "snapshot": services.sign_snapshot(services.schedule_values(cohort))})
    status = 409 if conflict else 400 if errors else 200
    return render_template("cohorts/schedule.html", form=form, errors=errors, cohort=cohort, expected=expected,
                           conflict=conflict, first_time=not cohort.days), status


# ---------------------------------------------------------------------------
# Tutors and other roles
# ---------------------------------------------------------------------------

@bp.route("/admin/cohorts/<slug>/roles", methods=["POST"])
@requires(ADMIN)
def grant_role(slug):
    cohort = services.get_cohort(current_user, slug)
    form = GrantRoleForm()
    if not form.validate_on_submit():
        return _cohort_page(slug, grant_form=form, errors=[("email", "This form has expired. Try again.")], status=400)
    problems = services.grant_cohort_role(current_user, cohort, form.email.data or "", form.role.data or "",
                                          lead=bool(form.lead.data), peer_trainer=bool(form.peer_trainer.data))
    if problems:
        return _cohort_page(slug, grant_form=form, errors=_errors(problems), status=400)
    flash(f"{(form.email.data or '').strip().lower()} now has the "
          f"{Role(form.role.data).label.lower()} role in this cohort.", "success")
    return redirect(url_for("cohorts.cohort", slug=slug, _anchor="people"))


@bp.route("/admin/cohorts/<slug>/roles/<int:grant_id>/revoke", methods=["POST"])
@requires(ADMIN)
def revoke_role(slug, grant_id):
    cohort = services.get_cohort(current_user, slug)
    if ActionForm().validate_on_submit():
        problems = services.revoke_cohort_role(current_user, cohort, grant_id)
        if problems:
            return _cohort_page(slug, errors=_errors(problems), status=400)
        flash("The role has been removed. Everything the person did in this cohort stays on record.", "success")
    return redirect(url_for("cohorts.cohort", slug=slug, _anchor="people"))


@bp.route("/admin/cohorts/<slug>/roles/<int:grant_id>/lead", methods=["POST"])
@requires(ADMIN)
def make_lead(slug, grant_id):
    cohort = services.get_cohort(current_user, slug)
    if ActionForm().validate_on_submit():
        grant = services.set_lead_tutor(current_user, cohort, grant_id)
        flash(f"{grant.user.display_name} is now the lead tutor.", "success")
    return redirect(url_for("cohorts.cohort", slug=slug, _anchor="people"))


@bp.route("/admin/cohorts/<slug>/roles/<int:grant_id>/peer-trainer", methods=["POST"])
@requires(ADMIN)
def peer_trainer(slug, grant_id):
    cohort = services.get_cohort(current_user, slug)
    form = PeerTrainerForm()
    if form.validate_on_submit():
        chosen = form.peer_trainer.data == "yes"
        grant = services.set_peer_trainer(current_user, cohort, grant_id, chosen)
        flash(f"{grant.user.display_name} is recorded as co-delivering from their own lived experience." if chosen
              else f"{grant.user.display_name} is no longer recorded as a peer trainer.", "success")
    return redirect(url_for("cohorts.cohort", slug=slug, _anchor="people"))


# ---------------------------------------------------------------------------
# Enrolment
# ---------------------------------------------------------------------------

def _supervisor_choices(form, cohort) -> None:
    academics = services.people_with_role(cohort.id, Role.ACADEMIC_SUPERVISOR)
    personals = services.people_with_role(cohort.id, Role.PERSONAL_SUPERVISOR)
    form.academic_supervisor.choices = choices([("", "Not chosen yet")] + [(u.id, u.display_name) for u in academics])
    form.personal_supervisor.choices = choices([("", "Not chosen yet")] + [
        (u.id, f"{u.display_name} ({u.organisation.name if u.organisation else 'no organisation'})")
        for u in personals])


@bp.route("/admin/cohorts/<slug>/enrol", methods=["GET", "POST"])
@requires(ADMIN)
def enrol(slug):
    cohort = services.get_cohort(current_user, slug)
    form = EnrolForm()
    form.organisation.choices = choices([("", "Choose an organisation")] + [
        (o.id, o.name) for o in services.organisations()])
    _supervisor_choices(form, cohort)
    errors = []
    if form.validate_on_submit():
        enrolment, problems, created = services.enrol(current_user, cohort, services.EnrolRequest(
            email=form.email.data or "", name=form.name.data or "",
            organisation_id=_int_or_none(form.organisation.data),
            academic_supervisor_id=_int_or_none(form.academic_supervisor.data),
            personal_supervisor_id=_int_or_none(form.personal_supervisor.data)))
        if enrolment is not None:
            message = "The trainee has been enrolled."
            if created is not None and form.invite.data:
                message += " " + _invite_one(created)
            flash(message, "success")
            return redirect(url_for("cohorts.cohort", slug=slug, _anchor="trainees"))
        errors = _errors(problems)
    elif form.is_submitted():
        errors = [("email", "This form has expired. Check the details and try again.")]
    return render_template("cohorts/enrol.html", form=form, errors=errors, cohort=cohort), 400 if errors else 200


def _invite_one(user) -> str:
    from lms.accounts import services as accounts

    invite = getattr(accounts, "invite", None)
    if invite is None:
        return "They have no invitation yet: send one from the Invitations page."
    try:
        invite(current_user, user)
    except ValueError as refused:  # the invitations service explains why
        return str(refused)
    return f"An invitation to set a password has been sent to {user.email}."


@bp.route("/admin/cohorts/<slug>/enrolments/<int:enrolment_id>", methods=["GET", "POST"])
@requires(ADMIN)
def enrolment(slug, enrolment_id):
    cohort = services.get_cohort(current_user, slug)
    enrolment = services.get_enrolment(current_user, cohort, enrolment_id)
    form = SupervisorsForm()
    _supervisor_choices(form, cohort)
    errors = []
    if form.validate_on_submit():
        problems = services.change_supervisors(current_user, enrolment, _int_or_none(form.academic_supervisor.data),
                                               _int_or_none(form.personal_supervisor.data))
        if not problems:
            flash(f"{enrolment.trainee.display_name}'s supervisors have been saved.", "success")
            return redirect(url_for("cohorts.cohort", slug=slug, _anchor="trainees"))
        errors = _errors(problems)
    elif not form.is_submitted():
        form.academic_supervisor.data = str(enrolment.academic_supervisor_id or "")
        form.personal_supervisor.data = str(enrolment.personal_supervisor_id or "")
    return _enrolment_page(cohort, enrolment, form, StatusForm(formdata=None), errors)


def _enrolment_page(cohort, enrolment, supervisors_form, status_form, errors, status_errors=()):
    status_form.action.choices = choices((action, rules.ACTION_LABELS[action]) for action in rules.actions_for(enrolment.status))
    targets = services.transfer_targets(enrolment) if "transfer" in rules.actions_for(enrolment.status) else []
    status_form.target_cohort.choices = choices([("", "Choose a cohort")] + [(c.id, c.name) for c in targets])
    if not status_form.on_date.data:
        status_form.on_date.data = services.today_in_zone().isoformat()
    all_errors = list(errors) + list(status_errors)
    history = services.enrolment_history(enrolment.trainee_id)
    return render_template("cohorts/enrolment.html", cohort=cohort, enrolment=enrolment, form=supervisors_form,
                           status_form=status_form, errors=list(errors), status_errors=list(status_errors),
                           all_errors=all_errors, status_labels=rules.STATUS_LABELS, history=history,
                           has_targets=bool(targets)), 400 if all_errors else 200


@bp.route("/admin/cohorts/<slug>/enrolments/<int:enrolment_id>/status", methods=["POST"])
@requires(ADMIN)
def enrolment_status(slug, enrolment_id):
    cohort = services.get_cohort(current_user, slug)
    enrolment = services.get_enrolment(current_user, cohort, enrolment_id)
    form = StatusForm()
    if form.validate_on_submit():
        action = form.action.data or ""
        problems, moved = services.change_status(
            current_user, enrolment, action, reason=form.reason.data or "", on_date=form.on_date.data or "",
            target_cohort_id=_int_or_none(form.target_cohort.data))
        if not problems:
            flash(f"{enrolment.trainee.display_name}'s enrolment is now {enrolment.status}. "
                  "Everything on their record is kept.", "success")
            return redirect(url_for("cohorts.cohort", slug=slug, _anchor="trainees"))
        status_errors = _errors(problems)
    else:
        status_errors = [("action", "This form has expired. Try again.")]
    supervisors = SupervisorsForm(formdata=None)
    _supervisor_choices(supervisors, cohort)
    supervisors.academic_supervisor.data = str(enrolment.academic_supervisor_id or "")
    supervisors.personal_supervisor.data = str(enrolment.personal_supervisor_id or "")
    return _enrolment_page(cohort, enrolment, supervisors, form, [], status_errors)


# ---------------------------------------------------------------------------
# Import and export
# ---------------------------------------------------------------------------

@bp.route("/admin/cohorts/<slug>/import", methods=["GET", "POST"])
@requires(ADMIN)
def import_people(slug):
    cohort = services.get_cohort(current_user, slug, with_days=False)
    form = ImportForm()
    errors, report = [], None
    if form.validate_on_submit():
        upload = request.files.get("file")
        raw = upload.read() if upload is not None and upload.filename else None
        if raw is None:
            errors = [("file", "Choose the CSV file to upload.")]
        else:
            dry_run = request.form.get("action") != "import"
            report = bulk_import.import_people(current_user, cohort, raw, dry_run=dry_run, invite=bool(form.invite.data))
            if report.applied:
                flash(report.summary(), "success")
                return redirect(url_for("cohorts.cohort", slug=slug, _anchor="trainees"))
            if report.problems:
                errors = [("file", report.summary())]
    elif form.is_submitted():
        errors = [("file", "This form has expired. Choose the file and try again.")]
    return render_template("cohorts/import.html", form=form, errors=errors, cohort=cohort, report=report,
                           columns=rules.COLUMNS), 400 if errors else 200


@bp.route("/admin/cohorts/<slug>/people.csv")
@requires(ADMIN)
def export_people(slug):
    cohort = services.get_cohort(current_user, slug, with_days=False)
    buffer = io.StringIO()
    # A byte-order mark tells Excel the file is UTF-8.
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows(bulk_import.cohort_csv_rows(cohort))
    return Response(buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{cohort.slug}-people.csv"'})
