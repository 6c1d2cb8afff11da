"""Progress pages for every role, the JSON API and the exam board. Views are thin: parse, call, render."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from lms.authz.access import public, requires
from lms.authz.roles import Role
from lms.database import utcnow
from lms.progress import exam_boards, services
from lms.progress.forms import (ConfirmForm, ConsentForm, CorrectionForm, DecisionForm, NoteForm, OpenBoardForm,
                                OptOutForm, TokenForm)
from lms.progress.policies import ADMINS, STAFF, TRAINEES, TUTORS_AND_ADMINS

bp = Blueprint("progress", __name__)
NAVIGATION = [
    (50, "My progress", "progress.mine", TRAINEES),
    (51, "Progress", "progress.overview", STAFF),
    (52, "Exam boards", "progress.boards", ADMINS),
]


def _grid_args() -> tuple[str, str, bool]:
    filter_by = request.args.get("filter", "all")
    if filter_by not in services.FILTERS:
        filter_by = "all"
    sort = request.args.get("sort", "name")
    if sort not in services.SORTS:
        sort = "name"
    return filter_by, sort, request.args.get("order") == "desc"


# --- the trainee ----------------------------------------------------------------------------


@bp.route("/progress")
@requires(Role.TRAINEE)
def mine():
    paths = services.my_paths(current_user, utcnow())
    return render_template("progress/mine.html", paths=paths, form=ConsentForm())


@bp.route("/progress/consent", methods=["POST"])
@requires(Role.TRAINEE)
def consent():
    form = ConsentForm()
    try:
        enrolment_id = int(form.enrolment_id.data or "")
    except ValueError:
        enrolment_id = 0
    saved = services.set_mark_consent(current_user, enrolment_id, bool(form.consented.data))
    flash("Your personal supervisor can now see your marks." if saved.consented
          else "Your personal supervisor will not see your marks.")
    return redirect(url_for("progress.mine"))


# --- staff ---------------------------------------------------------------------------------


@bp.route("/progress/overview")
@requires(*STAFF)
def overview():
    filter_by, sort, descending = _grid_args()
    page, total = services.caseload_page(current_user, utcnow(), filter_by, sort, descending,
                                         request.args.get("page"))
    cohorts = services.visible_cohorts(current_user)
    return render_template("progress/overview.html", rows=page.items, page=page, total=total,
                           filter_by=filter_by, sort=sort, descending=descending,
                           filters=services.FILTERS, cohorts=cohorts, is_admin=current_user.has_role(Role.ADMIN))


@bp.route("/progress/caseload.csv")
@requires(*STAFF)
def caseload_csv():
    filter_by, sort, descending = _grid_args()
    rows = services.arrange(services.caseload(current_user, utcnow()), filter_by, sort, descending)
    return Response(services.grid_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="caseload-progress.csv"'})


@bp.route("/progress/trainees/<int:enrolment_id>")
@requires(*STAFF)
def trainee(enrolment_id):
    return _render_trainee(enrolment_id)


def _render_trainee(enrolment_id: int, *, form: NoteForm | None = None, opt_out_form: OptOutForm | None = None,
                    errors=(), status: int = 200):
    page = services.trainee_page(current_user, enrolment_id, utcnow())
    return render_template("progress/trainee.html", page=page, form=form or NoteForm(),
                           opt_out_form=opt_out_form or OptOutForm(), errors=list(errors),
                           opt_out_choice=request.form.get("choice") if opt_out_form else None), status


@bp.route("/progress/trainees/<int:enrolment_id>/notes", methods=["POST"])
@requires(*STAFF)
def add_note(enrolment_id):
    form = NoteForm()
    note, errors = services.add_note(current_user, enrolment_id, form.text.data)
    if errors:
        return _render_trainee(enrolment_id, form=form, errors=errors, status=400)
    flash("Your supervision note is saved.")
    return redirect(url_for("progress.trainee", enrolment_id=enrolment_id) + "#notes")


@bp.route("/progress/trainees/<int:enrolment_id>/assessment-opt-out", methods=["POST"])
@requires(Role.ADMIN)
def record_opt_out(enrolment_id):
    form = OptOutForm()
    change, errors = services.record_opt_out(current_user, enrolment_id, request.form.get("choice", ""),
                                             form.effective_on.data, form.reason.data, utcnow().date())
    if errors:
        return _render_trainee(enrolment_id, opt_out_form=form, errors=errors, status=400)
    flash("The trainee's choice to opt out of assessment is recorded." if change.opted_out
          else "The trainee is back in assessment; the change is recorded.")
    return redirect(url_for("progress.trainee", enrolment_id=enrolment_id) + "#assessment")


@bp.route("/progress/cohorts/<slug>")
@requires(*TUTORS_AND_ADMINS)
def cohort(slug):
    cohort = services.cohort_for(current_user, slug)
    filter_by, sort, descending = _grid_args()
    rows = services.cohort_rows(current_user, cohort, utcnow())
    return render_template("progress/cohort.html", cohort=cohort, chart=services.cohort_chart(cohort, rows),
                           rows=services.arrange(rows, filter_by, sort, descending), total=len(rows),
                           filter_by=filter_by, sort=sort, descending=descending, filters=services.FILTERS)


@bp.route("/progress/cohorts/<slug>/progress.csv")
@requires(*TUTORS_AND_ADMINS)
def cohort_csv(slug):
    cohort = services.cohort_for(current_user, slug)
    filter_by, sort, descending = _grid_args()
    rows = services.arrange(services.cohort_rows(current_user, cohort, utcnow()), filter_by, sort, descending)
    return Response(services.grid_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="progress-{cohort.slug}.csv"'})


# --- API tokens and the API ------------------------------------------------------------------


@bp.route("/progress/api-tokens", methods=["GET", "POST"])
@requires(Role.ADMIN)
def tokens():
    form = TokenForm()
    created, errors, status = None, [], 200
    if request.method == "POST":
        chosen = services.parse_scopes(request.form.getlist("scopes"))
        created, errors = services.create_token(current_user, form.name.data, form.email.data, chosen)
        status = 400 if errors else 201
    else:
        chosen = list(services.DEFAULT_SCOPES)
    return render_template("progress/tokens.html", form=form, errors=errors, created=created,
                           tokens=services.tokens(current_user), revoke=ConfirmForm(), scopes=services.SCOPES,
                           chosen=chosen), status


@bp.route("/progress/api-tokens/<int:token_id>/revoke", methods=["POST"])
@requires(Role.ADMIN)
def revoke_token(token_id):
    ConfirmForm()
    token = services.revoke_token(current_user, token_id)
    flash(f"The token “{token.name}” is revoked; it can no longer be used.")
    return redirect(url_for("progress.tokens"))


def _api_response(scope: str, answer):
    """Authenticate (bearer token with `scope`, or the session) and answer JSON, failures included."""
    try:
        caller = services.api_caller(request.headers.get("Authorization"), current_user, scope)
        body, status = answer(caller), 200
    except services.ApiRefused as refused:
        body, status = {"error": refused.message, "status": refused.status}, refused.status
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lms"'
    return response


@bp.route("/api/v1/cohorts")
@public
def api_cohorts():
    """Authenticates itself (bearer token or session) so that failures are JSON, never a sign-in redirect."""
    return _api_response("cohorts:read", services.api_cohorts)


@bp.route("/api/v1/cohorts/<slug>/progress")
@public
def api_cohort_progress(slug):
    """Authenticates itself (bearer token or session) so that failures are JSON, never a sign-in redirect."""
    return _api_response("progress:read", lambda caller: services.api_progress(caller, slug, utcnow()))


# --- exam boards -----------------------------------------------------------------------------


@bp.route("/exam-boards", methods=["GET", "POST"])
@requires(Role.ADMIN)
def boards():
    cohorts, by_cohort = exam_boards.boards(current_user)
    form = OpenBoardForm()
    if request.method == "POST":
        try:
            board = exam_boards.open_board(current_user, form.cohort_id.data, form.held_on.data, form.members.data,
                                           form.comments.data)
        except exam_boards.BoardRefused as refused:
            return render_template("progress/boards.html", cohorts=cohorts, by_cohort=by_cohort, form=form,
                                   errors=refused.errors), refused.status
        flash("The exam board is open.")
        return redirect(url_for("progress.board", board_id=board.id))
    return render_template("progress/boards.html", cohorts=cohorts, by_cohort=by_cohort, form=form, errors=[])


def _render_board(board_id: int, errors=(), status: int = 200, correction: CorrectionForm | None = None):
    page = exam_boards.board_page(current_user, board_id, utcnow())
    correction = correction or CorrectionForm()
    return render_template("progress/board.html", page=page, errors=list(errors), ratify=ConfirmForm(),
                           decision_form=DecisionForm(), correction=correction,
                           decisions=exam_boards.DECISIONS), status


@bp.route("/exam-boards/<int:board_id>")
@requires(Role.ADMIN)
def board(board_id):
    return _render_board(board_id)


@bp.route("/exam-boards/<int:board_id>/ratify", methods=["POST"])
@requires(Role.ADMIN)
def ratify_all(board_id):
    form = ConfirmForm()
    try:
        count = exam_boards.ratify_all(current_user, board_id, form.version.data, utcnow())
    except exam_boards.BoardRefused as refused:
        return _render_board(board_id, refused.errors, refused.status)
    flash(f"The board ratified {count} outcome{'s' if count != 1 else ''}. The cohort is ready for certificates.")
    return redirect(url_for("progress.board", board_id=board_id))


@bp.route("/exam-boards/<int:board_id>/ratify-since", methods=["POST"])
@requires(Role.ADMIN)
def ratify_since(board_id):
    form = CorrectionForm()
    try:
        marks, outcomes = exam_boards.ratify_since(current_user, board_id, form.version.data, form.reason.data,
                                                   utcnow())
    except exam_boards.BoardRefused as refused:
        return _render_board(board_id, refused.errors, refused.status)
    flash(f"Ratified {marks} mark{'s' if marks != 1 else ''} agreed since the board sat and "
          f"{outcomes} outcome{'s' if outcomes != 1 else ''}. Marks can now be released.")
    return redirect(url_for("progress.board", board_id=board_id))


@bp.route("/exam-boards/<int:board_id>/release", methods=["POST"])
@requires(Role.ADMIN)
def release_marks(board_id):
    form = ConfirmForm()
    try:
        count = exam_boards.release_marks(current_user, board_id, form.version.data, utcnow())
    except exam_boards.BoardRefused as refused:
        return _render_board(board_id, refused.errors, refused.status)
    flash(f"{count} mark{'s' if count != 1 else ''} and feedback released. Each trainee has been told.")
    return redirect(url_for("progress.board", board_id=board_id))


@bp.route("/exam-boards/<int:board_id>/decisions", methods=["POST"])
@requires(Role.ADMIN)
def decide(board_id):
    form = DecisionForm()
    try:
        exam_boards.decide(current_user, board_id, form.enrolment_id.data, request.form.get("decision", ""),
                           form.reason.data, form.version.data, utcnow())
    except exam_boards.BoardRefused as refused:
        return _render_board(board_id, refused.errors, refused.status)
    flash("The decision is recorded.")
    return redirect(url_for("progress.board", board_id=board_id))


@bp.route("/exam-boards/<int:board_id>/corrections", methods=["POST"])
@requires(Role.ADMIN)
def correct(board_id):
    form = CorrectionForm()
    try:
        exam_boards.correct(current_user, board_id, form.enrolment_id.data, request.form.get("decision", ""),
                            request.form.get("award", ""), form.reason.data, form.version.data, utcnow())
    except exam_boards.BoardRefused as refused:
        return _render_board(board_id, refused.errors, refused.status, correction=form)
    flash("The correction is recorded; the earlier decision is kept in the record.")
    return redirect(url_for("progress.board", board_id=board_id))
