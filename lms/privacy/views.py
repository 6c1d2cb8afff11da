"""My data (download, ask for erasure) and the admin pages for erasure requests and retention."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.authz.access import requires
from lms.authz.roles import Role
from lms.privacy import services
from lms.privacy.forms import DecisionForm, DownloadForm, ErasureRequestForm

bp = Blueprint("privacy", __name__)
# No navigation entry: "My data" is linked from each person's profile page.


def _errors(problems):
    return [(problem.field, problem.message) for problem in problems]


def _my_data_page(form=None, errors=(), status=200):
    return render_template("privacy/my_data.html", download_form=DownloadForm(),
                           form=form or ErasureRequestForm(formdata=None), errors=list(errors),
                           requests=services.requests_of(current_user)), status


@bp.route("/my-data")
@requires()
def my_data():
    return _my_data_page()


@bp.route("/my-data/download", methods=["POST"])
@requires()
def download_my_data():
    if not DownloadForm().validate_on_submit():
        return redirect(url_for("privacy.my_data"))
    content = services.export_zip(current_user, current_user)
    stamp = services.utcnow().strftime("%Y-%m-%d")
    return Response(content, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="my-data-{stamp}.zip"'})


@bp.route("/my-data/erasure", methods=["POST"])
@requires()
def request_erasure():
    form = ErasureRequestForm()
    if not form.validate_on_submit():
        return _my_data_page(form, [("confirm", "This form has expired. Try again.")], 400)
    erasure, problems = services.request_erasure(current_user, note=form.note.data or "", confirmed=bool(form.confirm.data))
    if problems:
        return _my_data_page(form, _errors(problems), 400)
    flash("Your request has been sent. An admin will look at it and you will hear back.", "success")
    return redirect(url_for("privacy.my_data"))


def _requests_page(errors=(), status=200, form_for=None, form=None):
    return render_template("privacy/erasure_requests.html", requests=services.erasure_requests(current_user),
                           errors=list(errors), form_for=form_for, failed_form=form,
                           blank_form=DecisionForm(formdata=None)), status


@bp.route("/admin/erasure-requests")
@requires(Role.ADMIN)
def erasure_requests():
    return _requests_page()


@bp.route("/admin/erasure-requests/<int:request_id>", methods=["POST"])
@requires(Role.ADMIN)
def decide_erasure(request_id):
    form = DecisionForm()
    if not form.validate_on_submit():
        return _requests_page([("decision", "This form has expired. Try again.")], 400, request_id, form)
    problems = services.decide_erasure(current_user, request_id, decision=form.decision.data or "",
                                       note=form.note.data or "")
    if problems:
        return _requests_page(_errors(problems), 400, request_id, form)
    flash("The personal data has been erased." if form.decision.data == "approve"
          else "The request has been declined and the person told why.", "success")
    return redirect(url_for("privacy.erasure_requests"))


@bp.route("/admin/retention", methods=["GET", "POST"])
@requires(Role.ADMIN)
def retention():
    form = DownloadForm()  # the CSRF token; the month fields are read from the request
    errors = []
    values = {}
    if request.method == "POST":
        values = {key[len("months-"):]: value for key, value in request.form.items() if key.startswith("months-")}
        if not form.validate_on_submit():
            errors = [("retention", "This form has expired. Try again.")]
        else:
            problems = services.save_retention(current_user, values)
            if not problems:
                flash("The retention settings have been saved.", "success")
                return redirect(url_for("privacy.retention"))
            errors = _errors(problems)
    return render_template("privacy/retention.html", rows=services.retention_rows(), form=form, errors=errors,
                           values=values), 400 if errors else 200
