"""Certificate pages: my certificates, the name to print, issuing, the register, verification, credentials."""

from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from lms.authz.access import public, requires
from lms.authz.roles import Role
from lms.certificates import codes, rendering, services
from lms.certificates.forms import IssueForm, NameForm, ReissueForm, RevokeForm
from lms.certificates.policies import ADMINS, CERTIFICATE_READERS
from lms.database import utcnow
from lms.extensions import limiter

bp = Blueprint("certificates", __name__)
NAVIGATION = [(70, "Certificates", "certificates.index", CERTIFICATE_READERS)]

VERIFY_LIMIT = "30 per minute"


@bp.app_template_filter("day_month_year")
def day_month_year(value) -> str:
    """'12 March 2026': how dates read on a certificate."""
    return f"{value.day} {value:%B %Y}" if value else ""


@bp.app_template_filter("format_code")
def format_code(compact: str) -> str:
    """A compact verification code in groups of four."""
    return codes.format_code(compact)


def verify_limit() -> str:
    return current_app.config.get("LMS_VERIFY_RATE_LIMIT", VERIFY_LIMIT)


# Both verification pages share one allowance per address, so a script cannot
# go through the form to guess codes faster.
verification_limit = limiter.shared_limit(verify_limit, scope="certificate-verification")


def _download(data: bytes, file_name: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    # The stored file's digest, so anyone can check the download is the one on record.
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    return response


# --- for trainees, supervisors and admins


@bp.route("/certificates")
@requires(*CERTIFICATE_READERS)
def index():
    mine = services.my_certificates(current_user) if current_user.has_role(Role.TRAINEE) else []
    name = services.name_on_certificate(current_user) if current_user.has_role(Role.TRAINEE) else None
    supervising = services.supervised_certificates(current_user) if current_user.has_role(
        Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR) else []
    overview = services.admin_overview() if current_user.has_role(Role.ADMIN) else None
    return render_template("certificates/index.html", mine=mine, name=name, supervising=supervising,
                           overview=overview)


@bp.route("/certificates/name", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def my_name():
    form = NameForm()
    errors = []
    if form.validate_on_submit():
        errors = services.confirm_name(current_user, form.name.data)
        if not errors:
            flash("Thank you. Your certificate will show your name as you have confirmed it.", "success")
            return redirect(url_for("certificates.index"))
    elif form.is_submitted():
        errors = [("name", "This form has expired. Reload the page and try again.")]
    else:
        form.name.data = services.name_on_certificate(current_user)[0]
    name, confirmed = services.name_on_certificate(current_user)
    return render_template("certificates/name.html", form=form, errors=errors, confirmed=confirmed,
                           current_name=name, holding=services.my_certificates(current_user)), 400 if errors else 200


@bp.route("/certificates/<serial>")
@requires()
def show(serial):
    certificate = services.certificate_for(current_user, serial)
    admin = current_user.has_role(Role.ADMIN)
    trainee_name = services.holders_name_now(certificate) if admin else None
    return render_template("certificates/show.html", **rendering.certificate_values(certificate),
                           current=services.replaced_by(certificate), admin=admin,
                           history=services.history(certificate) if admin else [], trainee_name=trainee_name,
                           name_asked_for=services.name_asked_for)


@bp.route("/certificates/<serial>/certificate.pdf")
@requires()
def pdf(serial):
    certificate = services.certificate_for(current_user, serial)
    return _download(services.pdf_bytes(certificate), f"{certificate.serial}-certificate.pdf", "application/pdf")


@bp.route("/certificates/<serial>/transcript.pdf")
@requires()
def transcript(serial):
    certificate = services.certificate_for(current_user, serial)
    return _download(services.transcript_bytes(certificate), f"{certificate.serial}-transcript.pdf",
                     "application/pdf")


@bp.route("/certificates/<serial>/credential.jwt")
@requires()
def credential(serial):
    certificate = services.certificate_for(current_user, serial)
    token = services.signed_credential(certificate).encode()
    return _download(token, f"{certificate.serial}-credential.jwt", "application/vc+jwt")


# --- admins: issuing, revoking, reissuing


@bp.route("/admin/certificates/cohorts/<slug>")
@requires(*ADMINS)
def cohort(slug):
    cohort = services.cohort_for_admin(current_user, slug)
    form = IssueForm()
    preview = services.preview(cohort)
    form.expected.data = str(len(preview.to_issue))
    return render_template("certificates/preview.html", preview=preview, form=form, errors=[],
                           asked_at=services.names_last_requested(cohort))


@bp.route("/admin/certificates/cohorts/<slug>/ask-names", methods=["POST"])
@requires(*ADMINS)
def ask_names(slug):
    cohort = services.cohort_for_admin(current_user, slug)
    if not IssueForm().validate_on_submit():
        flash("This form has expired. Reload the page and try again.", "error")
        return redirect(url_for("certificates.cohort", slug=slug))
    asked = services.ask_for_names(current_user, cohort)
    if asked:
        flash(f"{asked} trainee{'s were' if asked != 1 else ' was'} asked to confirm the name for their "
              "certificate. Nothing has been issued yet.", "success")
    else:
        flash("Everyone whose certificate is ready has confirmed their name; nobody needed asking.")
    return redirect(url_for("certificates.cohort", slug=slug))


@bp.route("/admin/certificates/cohorts/<slug>/issue", methods=["POST"])
@requires(*ADMINS)
def issue(slug):
    cohort = services.cohort_for_admin(current_user, slug)
    form = IssueForm()
    if form.validate_on_submit():
        batch, errors = services.start_batch(current_user, cohort, form.expected.data, form.names.data)
        if batch is not None:
            return redirect(url_for("certificates.batch", batch_id=batch.id))
    else:
        errors = [("confirm", "This form has expired. Reload the page and try again.")]
    preview = services.preview(cohort)
    form.expected.data = str(len(preview.to_issue))
    return render_template("certificates/preview.html", preview=preview, form=form, errors=errors,
                           asked_at=services.names_last_requested(cohort)), 400


@bp.route("/admin/certificates/batches/<int:batch_id>")
@requires(*ADMINS)
def batch(batch_id):
    batch = services.batch_for(current_user, batch_id)
    refresh = batch.running and request.args.get("refresh") != "off"
    return render_template("certificates/batch.html", batch=batch, refresh=refresh)


@bp.route("/admin/certificates/cohorts/<slug>/certificates.zip")
@requires(*ADMINS)
def cohort_zip(slug):
    cohort = services.cohort_for_admin(current_user, slug)
    return _download(services.cohort_zip(current_user, cohort), f"certificates-{cohort.slug}.zip", "application/zip")


@bp.route("/certificates/<serial>/revoke", methods=["GET", "POST"])
@requires(*ADMINS)
def revoke(serial):
    certificate = services.certificate_for(current_user, serial)
    form = RevokeForm()
    errors = []
    if form.validate_on_submit():
        errors = services.revoke(current_user, certificate, form.reason.data)
        if not errors:
            flash(f"Certificate {certificate.serial} has been revoked. Its verification page now says so.", "success")
            return redirect(url_for("certificates.show", serial=certificate.serial))
    elif form.is_submitted():
        errors = [("reason", "This form has expired. Reload the page and try again.")]
    return render_template("certificates/revoke.html", certificate=certificate, form=form,
                           errors=errors), 400 if errors else 200


@bp.route("/certificates/<serial>/reissue", methods=["GET", "POST"])
@requires(*ADMINS)
def reissue(serial):
    certificate = services.certificate_for(current_user, serial)
    form = ReissueForm()
    errors = []
    if form.validate_on_submit():
        replacement, errors = services.reissue(current_user, certificate, form.name.data, form.reason.data)
        if replacement is not None:
            flash(f"Reissued as {replacement.serial}. {certificate.serial} now says it was replaced.", "success")
            return redirect(url_for("certificates.show", serial=replacement.serial))
    elif form.is_submitted():
        errors = [("name", "This form has expired. Reload the page and try again.")]
    else:
        now = services.holders_name_now(certificate)
        form.name.data = now[0] if now else certificate.holder_name
    return render_template("certificates/reissue.html", certificate=certificate, form=form,
                           errors=errors), 400 if errors else 200


# --- anyone: verification and what wallets need


def _public(response):
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex"  # names on certificates stay out of search engines
    return response


@bp.route("/verify")
@public
@verification_limit
def verify_form():
    typed = request.args.get("code")
    if typed is None:
        return _public(Response(render_template("certificates/verify_form.html", errors=[], typed="")))
    problem = codes.code_problem(typed)
    if problem:
        return _public(Response(render_template("certificates/verify_form.html", errors=[("code", problem)],
                                                typed=typed), status=400))
    return redirect(url_for("certificates.verify", code=codes.format_code(codes.compact_code(typed))))


@bp.route("/verify/<code>")
@public
@verification_limit
def verify(code):
    certificate = services.find_by_code(code)
    if certificate is None:
        problem = codes.code_problem(code)
        return _public(Response(render_template("certificates/verify_not_found.html", typed=code, problem=problem),
                                status=404))
    return _public(Response(render_template("certificates/verify.html", certificate=certificate,
                                            code=codes.format_code(certificate.code), now=utcnow(),
                                            current=services.replaced_by(certificate))))


@bp.route("/credentials/status/<int:number>")
@public
def status_list(number):
    if not 1 <= number <= 10_000:
        return Response("There is no status list with this number.\n", status=404, mimetype="text/plain")
    response = Response(services.status_list_token(number), mimetype="application/vc+jwt")
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _public_json(value: dict, mimetype: str = "application/json"):
    response = jsonify(value)
    response.mimetype = mimetype
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/.well-known/jwks.json")
@public
def jwks():
    return _public_json(services.jwks(), "application/jwk-set+json")


@bp.route("/.well-known/did.json")
@bp.route("/did.json")  # did:web of an LMS served under a path (https://example.org/lms -> /lms/did.json)
@public
def did_document():
    return _public_json(services.did_document(), "application/did+json")
