"""Admin pages: people, organisations and the audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.admin import rules, services
from lms.admin.forms import ActionForm, DeactivateForm, OrganisationForm, PersonForm
from lms.authz.access import requires
from lms.authz.roles import ROLE_LABELS, Role
from lms.cohorts import services as cohorts
from lms.cohorts.forms import choices
from lms.cohorts.rules import STATUS_LABELS

bp = Blueprint("admin", __name__)
NAVIGATION = [
    (60, "People", "admin.people", frozenset({Role.ADMIN})),
    (62, "Organisations", "admin.organisations", frozenset({Role.ADMIN})),
    (70, "Audit log", "admin.audit_log", frozenset({Role.ADMIN})),
]
ADMIN = Role.ADMIN


def _errors(problems):
    return [(problem.field, problem.message) for problem in problems]


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

@bp.route("/admin/people")
@requires(ADMIN)
def people():
    filters = {key: request.args.get(key, "")[:200] for key in ("q", "role", "organisation", "status")}
    sort = request.args.get("sort", "name")
    page, cohort_names = services.list_people(current_user, sort=sort, page=cohorts.page_number(request.args.get("page")),
                                              **filters)
    return render_template("admin/people.html", page=page, cohort_names=cohort_names, filters=filters, sort=sort,
                           roles=ROLE_LABELS, organisations=cohorts.organisations())


def _person_page(user_id, form=None, errors=(), status=200):
    page = services.person_page(current_user, user_id)
    if form is None:
        form = PersonForm(formdata=None, data={"display_name": page.person.display_name,
                                               "organisation": str(page.person.organisation_id or "")})
    form.organisation.choices = choices([("", "No organisation")] + [(o.id, o.name) for o in cohorts.organisations()])
    return render_template("admin/person.html", page=page, person=page.person, form=form,
                           deactivate_form=DeactivateForm(formdata=None), action_form=ActionForm(), errors=list(errors),
                           roles=ROLE_LABELS, status_labels=STATUS_LABELS,
                           describe=lambda event: services.describe_event(event, {})), status


@bp.route("/admin/people/<int:user_id>", methods=["GET", "POST"])
@requires(ADMIN)
def person(user_id):
    if request.method == "GET":
        return _person_page(user_id)
    person = services.get_person(current_user, user_id)
    form = PersonForm()
    if not form.validate_on_submit():
        return _person_page(user_id, form, [("display_name", "This form has expired. Try again.")], 400)
    problems = services.update_person(current_user, person, display_name=form.display_name.data or "",
                                      organisation_id=_int_or_none(form.organisation.data))
    if problems:
        return _person_page(user_id, form, _errors(problems), 400)
    flash(f"{person.display_name}'s details have been saved.", "success")
    return redirect(url_for("admin.person", user_id=user_id))


@bp.route("/admin/people/<int:user_id>/deactivate", methods=["POST"])
@requires(ADMIN)
def deactivate_person(user_id):
    person = services.get_person(current_user, user_id)
    form = DeactivateForm()
    if form.validate_on_submit():
        problems = services.deactivate(current_user, person, form.reason.data or "")
        if problems:
            return _person_page(user_id, errors=_errors(problems), status=400)
        flash(f"{person.display_name}'s account is deactivated: they are signed out and cannot sign in. "
              "Their records are kept.", "success")
    return redirect(url_for("admin.person", user_id=user_id))


@bp.route("/admin/people/<int:user_id>/reactivate", methods=["POST"])
@requires(ADMIN)
def reactivate_person(user_id):
    person = services.get_person(current_user, user_id)
    if ActionForm().validate_on_submit():
        services.reactivate(current_user, person)
        flash(f"{person.display_name} can sign in again.", "success")
    return redirect(url_for("admin.person", user_id=user_id))


# ---------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------

@bp.route("/admin/organisations")
@requires(ADMIN)
def organisations():
    q = request.args.get("q", "")[:200]
    kind = request.args.get("kind", "")
    sort = request.args.get("sort", "name")
    page, counts = services.list_organisations(current_user, q=q, kind=kind, sort=sort,
                                               page=cohorts.page_number(request.args.get("page")))
    return render_template("admin/organisations.html", page=page, counts=counts, q=q, kind=kind, sort=sort,
                           kinds=rules.ORGANISATION_KINDS)


def _organisation_details(form) -> rules.OrganisationDetails:
    return rules.OrganisationDetails(form.name.data or "", form.kind.data or "", form.contact_email.data or "")


@bp.route("/admin/organisations/new", methods=["GET", "POST"])
@requires(ADMIN)
def new_organisation():
    form = OrganisationForm()
    errors = []
    if form.validate_on_submit():
        organisation, problems = services.create_organisation(current_user, _organisation_details(form))
        if organisation is not None:
            flash(f"{organisation.name} has been added.", "success")
            return redirect(url_for("admin.organisations"))
        errors = _errors(problems)
    elif form.is_submitted():
        errors = [("name", "This form has expired. Check the details and save again.")]
    return render_template("admin/organisation_form.html", form=form, errors=errors, organisation=None,
                           people=[]), 400 if errors else 200


@bp.route("/admin/organisations/<int:organisation_id>", methods=["GET", "POST"])
@requires(ADMIN)
def edit_organisation(organisation_id):
    organisation = services.get_organisation(current_user, organisation_id)
    form = OrganisationForm(data=None if request.method == "POST" else {
        "name": organisation.name, "kind": organisation.kind, "contact_email": organisation.contact_email or ""})
    errors = []
    if form.validate_on_submit():
        problems = services.update_organisation(current_user, organisation, _organisation_details(form))
        if not problems:
            flash(f"{organisation.name} has been saved.", "success")
            return redirect(url_for("admin.organisations"))
        errors = _errors(problems)
    elif form.is_submitted():
        errors = [("name", "This form has expired. Check the details and save again.")]
    return render_template("admin/organisation_form.html", form=form, errors=errors, organisation=organisation,
                           people=services.organisation_people(organisation.id)), 400 if errors else 200


# ---------------------------------------------------------------------------
# The audit log
# ---------------------------------------------------------------------------

@bp.route("/admin/audit")
@requires(ADMIN)
def audit_log():
    person_text = request.args.get("person", "")[:254]
    cohort_slug = request.args.get("cohort", "")
    page_number = cohorts.page_number(request.args.get("page"))
    errors = []
    person = services.find_person(person_text) if person_text else None
    if person_text and person is None:
        errors.append(("person", f"There is nobody with the email {person_text.strip()}. Check it and try again."))
    all_cohorts = cohorts.all_cohorts()
    cohort = next((c for c in all_cohorts if c.slug == cohort_slug), None)
    rows, more = ([], False) if errors else services.audit_log(
        current_user, person_id=person.id if person else None, cohort_id=cohort.id if cohort else None,
        page=page_number)
    return render_template("admin/audit_log.html", rows=rows, more=more, page_number=page_number, person=person,
                           person_text=person_text, cohort=cohort, cohorts=all_cohorts, errors=errors), \
        400 if errors else 200
