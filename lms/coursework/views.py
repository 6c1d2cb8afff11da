"""The assignment pages: submitting, extensions, mitigating circumstances, marking and release.

Views are thin: they read the form, call a service with the signed-in
person, and render. A refusal from a service re-renders the page with its
messages and status; nothing it refused was saved.
"""

from __future__ import annotations

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from lms.accounts.models import User
from lms.authz.access import requires
from lms.authz.roles import Role
from lms.content.markdown import render_markdown
from lms.coursework import forms, marking, services, uploads
from lms.coursework.rules import MarkingState, count_words, word_count_note
from lms.coursework.services import Refused
from lms.extensions import db

bp = Blueprint("coursework", __name__)
NAVIGATION = [
    (30, "Assignment", "coursework.my_assignments", frozenset({Role.TRAINEE})),
    (40, "Marking", "coursework.marking", frozenset({Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.ADMIN})),
    (45, "Extensions and circumstances", "coursework.requests", frozenset({Role.ACADEMIC_SUPERVISOR, Role.ADMIN})),
    (46, "External examining", "coursework.examining", frozenset({Role.EXTERNAL_EXAMINER})),
]


@bp.context_processor
def coursework_helpers():
    """Names the coursework templates use (only on this blueprint's pages)."""
    return {"MarkingState": MarkingState, "word_count_note": word_count_note, "count_words": count_words,
            "markdown": lambda text: render_markdown(text or ""),
            "describe_size": uploads.describe_size, "claim_categories": services.CLAIM_CATEGORIES,
            "extension_status": services.EXTENSION_STATUS, "claim_status": services.CLAIM_STATUS}


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A request over the site's size limit never reaches the form: say so plainly."""
    # The body was not read, so the forms on the page (sign out) must not try to read it again.
    current = request._get_current_object()
    current.__dict__.update(form=ImmutableMultiDict(), files=ImmutableMultiDict())
    _reload_signed_in_person()
    return render_template("coursework/too_large.html", message=uploads.too_large_message(),
                           back=request.path), 413


def refused(refusal: Refused):
    """Roll back anything a refused request started, and hand its messages to the page."""
    _reload_signed_in_person()
    return refusal.errors, refusal.status


def _reload_signed_in_person() -> None:
    """Roll back, then load the signed-in person again with their roles.

    Rolling back expires every loaded object, the signed-in person too; the
    page is then drawn without lazy loads.
    """
    db.session.rollback()
    if current_user.is_authenticated:
        db.session.execute(select(User).options(selectinload(User.role_grants)).where(User.id == current_user.id)
                           .execution_options(populate_existing=True))


# --- trainees --------------------------------------------------------------------


@bp.route("/assignment")
@requires(Role.TRAINEE)
def my_assignments():
    """A trainee's assignments and where each one stands."""
    return render_template("coursework/my_assignments.html", views=services.my_assignments(current_user))


@bp.route("/assignment/<int:assignment_id>", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def submission(assignment_id):
    """The brief, the dates and the editor: save a draft, or submit with the declaration."""
    form = forms.SubmissionForm()
    errors, status = [], 200
    if form.validate_on_submit():
        submit = request.form.get("action") == "submit"
        try:
            saved = services.save_work(current_user, assignment_id, text=form.text.data or "",
                                       files=request.files.getlist("files"), declaration=form.declaration.data,
                                       submit=submit)
        except Refused as refusal:
            errors, status = refused(refusal)
        else:
            if submit:
                flash("Your work has been submitted. This is your receipt; we have e-mailed you a copy.", "success")
                return redirect(url_for("coursework.receipt", submission_id=saved.id))
            flash("Your draft has been saved.", "success")
            return redirect(url_for("coursework.submission", assignment_id=assignment_id))
    view = services.trainee_assignment(current_user, assignment_id)
    if not form.is_submitted():
        form.text.data = view.current.text if view.current else ""
    return render_template("coursework/submission.html", view=view, form=form, errors=errors,
                           remove_form=forms.PlainForm(), max_upload=uploads.max_upload_bytes()), status


@bp.route("/assignment/<int:assignment_id>/autosave", methods=["POST"])
@requires(Role.TRAINEE)
def autosave(assignment_id):
    """Keep the draft text as the trainee types (answers JSON for coursework.js)."""
    form = forms.AutosaveForm()
    if not form.validate_on_submit():
        return jsonify(error="This page has expired. Copy your text, reload the page and paste it back."), 400
    try:
        saved = services.autosave(current_user, assignment_id, form.text.data or "")
    except Refused as refusal:
        errors, status = refused(refusal)
        return jsonify(error=errors[0][1]), status
    return jsonify(saved_at=services.short_time(saved.text_saved_at), words=count_words(saved.text))


@bp.route("/assignment/<int:assignment_id>/files/<int:file_id>/remove", methods=["POST"])
@requires(Role.TRAINEE)
def remove_file(assignment_id, file_id):
    """Take a file out of the draft."""
    if forms.PlainForm().validate_on_submit():
        try:
            removed = services.remove_file(current_user, assignment_id, file_id)
        except Refused as refusal:
            errors, _ = refused(refusal)
            flash(errors[0][1], "error")
        else:
            flash(f"“{removed.original_name}” has been removed from your draft.", "success")
    return redirect(url_for("coursework.submission", assignment_id=assignment_id))


@bp.route("/assignment/<int:assignment_id>/extension", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def request_extension(assignment_id):
    """Ask for more time."""
    form = forms.ExtensionRequestForm()
    errors, status = [], 200
    if form.validate_on_submit():
        try:
            services.request_extension(current_user, assignment_id, working_days=form.working_days.data,
                                       reason=form.reason.data, evidence=request.files.get("evidence"))
        except Refused as refusal:
            errors, status = refused(refusal)
        else:
            flash("Your request has been sent to your academic supervisor. We will let you know their answer.",
                  "success")
            return redirect(url_for("coursework.submission", assignment_id=assignment_id))
    view = services.trainee_assignment(current_user, assignment_id)
    return render_template("coursework/extension_request.html", view=view, form=form, errors=errors), status


@bp.route("/assignment/<int:assignment_id>/mitigating-circumstances", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def report_mitigation(assignment_id):
    """Report mitigating circumstances, in confidence."""
    form = forms.MitigationForm()
    errors, status = [], 200
    if form.validate_on_submit():
        try:
            services.report_mitigation(current_user, assignment_id, category=form.category.data or "",
                                       details=form.details.data, evidence=request.files.get("evidence"))
        except Refused as refusal:
            errors, status = refused(refusal)
        else:
            flash("Thank you for telling us. Your academic supervisor and the course admin will look at it "
                  "in confidence.", "success")
            return redirect(url_for("coursework.submission", assignment_id=assignment_id))
    view = services.trainee_assignment(current_user, assignment_id)
    return render_template("coursework/mitigation_report.html", view=view, form=form, errors=errors), status


@bp.route("/submissions/<int:submission_id>/receipt")
@requires(Role.TRAINEE)
def receipt(submission_id):
    """The receipt of a submitted attempt."""
    return render_template("coursework/receipt.html", submission=services.receipt(current_user, submission_id))


@bp.route("/submissions/<int:submission_id>/feedback")
@requires(Role.TRAINEE)
def feedback(submission_id):
    """The released mark and feedback."""
    return render_template("coursework/feedback.html", result=services.feedback(current_user, submission_id))


@bp.route("/coursework/files/<int:file_id>")
@requires()
def download(file_id):
    """A kept file, as an attachment, for someone allowed to have it."""
    stored = services.file_for_download(current_user, file_id)
    path = uploads.path_for(stored.stored_name)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=uploads.KINDS[stored.kind][1], as_attachment=True,
                         download_name=stored.original_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- academic supervisors and admins --------------------------------------------------


@bp.route("/extensions-and-circumstances")
@requires(Role.ACADEMIC_SUPERVISOR, Role.ADMIN)
def requests():
    """Extension requests and mitigating circumstances to look at."""
    return render_template("coursework/requests.html", items=services.requests_for(current_user))


@bp.route("/extensions/<int:extension_id>", methods=["GET", "POST"])
@requires(Role.ACADEMIC_SUPERVISOR, Role.ADMIN)
def decide_extension(extension_id):
    """Read an extension request and approve, shorten or decline it."""
    form = forms.ExtensionDecisionForm()
    errors, status = [], 200
    if form.validate_on_submit():
        try:
            services.decide_extension(current_user, extension_id, decision=form.decision.data or "",
                                      working_days=form.working_days.data, message=form.message.data or "")
        except Refused as refusal:
            errors, status = refused(refusal)
        else:
            flash("Your decision has been saved and the trainee has been told.", "success")
            return redirect(url_for("coursework.requests"))
    extension, deadlines = services.extension_for_decision(current_user, extension_id)
    return render_template("coursework/extension_decide.html", extension=extension, deadlines=deadlines, form=form,
                           errors=errors), status


@bp.route("/mitigating-circumstances/<int:claim_id>", methods=["GET", "POST"])
@requires(Role.ACADEMIC_SUPERVISOR, Role.ADMIN)
def claim(claim_id):
    """Read mitigating circumstances; admins accept or reject them."""
    form = forms.ClaimDecisionForm()
    errors, status = [], 200
    if form.validate_on_submit():
        try:
            services.decide_claim(current_user, claim_id, decision=form.decision.data or "",
                                  reason=form.reason.data or "", exceptional=form.exceptional.data)
        except Refused as refusal:
            errors, status = refused(refusal)
        else:
            flash("The decision has been recorded and the trainee has been told.", "success")
            return redirect(url_for("coursework.requests"))
    item = services.claim_for(current_user, claim_id)
    return render_template("coursework/claim.html", claim=item, form=form, errors=errors,
                           can_decide=current_user.has_role(Role.ADMIN)), status


# --- marking ---------------------------------------------------------------------


@bp.route("/marking", endpoint="marking")
@requires(Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.ADMIN)
def marking_overview():
    """The assignments this person marks or manages."""
    return render_template("coursework/marking.html", rows=marking.marking_overview(current_user))


@bp.route("/marking/<int:assignment_id>")
@requires(Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.ADMIN)
def queue(assignment_id, errors=(), status=200):
    """The marking queue of one assignment (re-drawn with errors by the allocation views)."""
    view = marking.queue(current_user, assignment_id)
    return render_template("coursework/queue.html", queue=view, form=forms.PlainForm(),
                           errors=list(errors)), status


@bp.route("/marking/<int:assignment_id>/allocate", methods=["POST"])
@requires(Role.TUTOR, Role.ADMIN)
def allocate(assignment_id):
    """Share the chosen scripts among the chosen first markers."""
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    try:
        allocation = marking.allocate(current_user, assignment_id, request.form.getlist("scripts"),
                                       request.form.getlist("markers"))
    except Refused as refusal:
        errors, status = refused(refusal)
        return queue(assignment_id, errors, status)
    flash(f"{len(allocation)} script{'s' if len(allocation) != 1 else ''} allocated.", "success")
    return redirect(url_for("coursework.queue", assignment_id=assignment_id))


@bp.route("/marking/scripts/<int:submission_id>/allocate", methods=["POST"])
@requires(Role.TUTOR, Role.ADMIN)
def allocate_script(submission_id):
    """Allocate one script's second or third marker."""
    form = forms.AllocateScriptForm()
    if not form.validate_on_submit():
        abort(400)
    assignment_id = request.form.get("assignment_id", type=int)
    try:
        submission = marking.allocate_script(current_user, submission_id, stage=form.stage.data or "",
                                              marker_id=request.form.get("marker"))
    except Refused as refusal:
        errors, status = refused(refusal)
        if assignment_id is None:
            abort(status)
        return queue(assignment_id, errors, status)
    flash(f"{submission.candidate.label}: {form.stage.data} marker allocated.", "success")
    return redirect(url_for("coursework.queue", assignment_id=submission.assignment_id))


def _render_script(view, errors=(), status=200, first_form=None, moderation_form=None, agree_form=None):
    submission = view.submission
    first_form = first_form or forms.FirstMarkingForm()
    moderation_form = moderation_form or forms.ModerationMarkForm()
    agree_form = agree_form or forms.AgreeForm()
    if not first_form.is_submitted():
        first = view.marks.get("first")
        if first is not None:
            first_form.overall.data = str(first.mark) if first.override_reason and first.mark is not None else ""
            first_form.override_reason.data = first.override_reason or ""
            first_form.feedback.data = first.feedback
    own = view.marks.get(view.actor_stage) if view.actor_stage in ("second", "third") else None
    if not moderation_form.is_submitted() and own is not None:
        moderation_form.mark.data = str(own.mark) if own.mark is not None else ""
        moderation_form.comment.data = own.feedback
    for form in (first_form, moderation_form, agree_form):
        form.version.data = submission.version
    entered = request.form if request.method == "POST" else None
    return render_template("coursework/script.html", view=view, first_form=first_form,
                           moderation_form=moderation_form, agree_form=agree_form, plain_form=forms.PlainForm(),
                           correction_form=forms.CorrectionForm(version=submission.version), errors=list(errors),
                           entered=entered), status


@bp.route("/marking/scripts/<int:submission_id>", methods=["GET", "POST"])
@requires(Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.ADMIN)
def script(submission_id):
    """Mark a script: the rubric grid for the first marker, a mark and comments for the others."""
    view = marking.script(current_user, submission_id)
    if request.method == "GET":
        return _render_script(view)
    which = request.form.get("form")
    first_form, moderation_form = forms.FirstMarkingForm(), forms.ModerationMarkForm()
    if not first_form.validate_on_submit():
        abort(400)
    try:
        if which == "first":
            complete = request.form.get("action") == "complete"
            marking.save_first_marking(
                current_user, submission_id, version=first_form.version.data,
                criteria=forms.criteria_from(request.form, view.assignment.rubric), overall=first_form.overall.data,
                override_reason=first_form.override_reason.data or "", feedback_text=first_form.feedback.data or "",
                feedback_file=request.files.get("feedback_file"), complete=complete)
            message = "First marking completed." if complete else "Your marking has been saved as a draft."
        elif which in ("second", "third"):
            marking.save_moderation_mark(current_user, submission_id, stage=which,
                                          version=moderation_form.version.data, mark=moderation_form.mark.data,
                                          comment=moderation_form.comment.data or "")
            message = f"Your {which} mark has been recorded."
        else:
            abort(400)
    except Refused as refusal:
        errors, status = refused(refusal)
        view = marking.script(current_user, submission_id)
        return _render_script(view, errors, status, first_form=first_form, moderation_form=moderation_form)
    flash(message, "success")
    return redirect(url_for("coursework.script", submission_id=submission_id))


@bp.route("/marking/scripts/<int:submission_id>/reopen", methods=["POST"])
@requires(Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.ADMIN)
def reopen(submission_id):
    """Reopen first marking before moderation."""
    form = forms.VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        marking.reopen_first_marking(current_user, submission_id, version=form.version.data)
    except Refused as refusal:
        errors, status = refused(refusal)
        return _render_script(marking.script(current_user, submission_id), errors, status)
    flash("First marking is open again.", "success")
    return redirect(url_for("coursework.script", submission_id=submission_id))


@bp.route("/marking/scripts/<int:submission_id>/agree", methods=["POST"])
@requires(Role.TUTOR, Role.ACADEMIC_SUPERVISOR, Role.ADMIN)
def agree(submission_id):
    """Record the agreed mark and how it was reached."""
    form = forms.AgreeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        marking.agree_mark(current_user, submission_id, version=form.version.data, mark=form.agreed_mark.data,
                            rationale=form.rationale.data or "")
    except Refused as refusal:
        errors, status = refused(refusal)
        return _render_script(marking.script(current_user, submission_id), errors, status, agree_form=form)
    flash("The agreed mark has been recorded.", "success")
    return redirect(url_for("coursework.script", submission_id=submission_id))


@bp.route("/marking/<int:assignment_id>/moderation", methods=["GET", "POST"])
@requires(Role.TUTOR, Role.ADMIN)
def moderation(assignment_id):
    """Propose the moderation sample and send it to second markers."""
    form = forms.PlainForm()
    errors, status = [], 200
    if form.validate_on_submit():
        try:
            sampled, agreed = marking.confirm_sample(current_user, assignment_id,
                                                      sampled_ids=request.form.getlist("sampled"),
                                                      second_marker_ids=request.form.getlist("second_markers"))
        except Refused as refusal:
            errors, status = refused(refusal)
        else:
            flash(f"{sampled} script{'s' if sampled != 1 else ''} sent to second marking; "
                  f"{agreed} first mark{'s' if agreed != 1 else ''} agreed as they stand.", "success")
            return redirect(url_for("coursework.queue", assignment_id=assignment_id))
    view = marking.moderation(current_user, assignment_id)
    chosen = set(request.form.getlist("sampled")) if form.is_submitted() else {str(i) for i in view.proposed}
    chosen_markers = set(request.form.getlist("second_markers")) if form.is_submitted() else set()
    return render_template("coursework/moderation.html", view=view, form=form, errors=errors, chosen=chosen,
                           chosen_markers=chosen_markers), status


@bp.route("/marking/<int:assignment_id>/settings", methods=["GET", "POST"])
@requires(Role.ADMIN)
def settings(assignment_id):
    """An assignment's dates and marking settings (admins)."""
    services.settings_for(current_user, assignment_id)
    form = forms.SettingsForm()
    if form.validate_on_submit():
        try:
            services.update_settings(
                current_user, assignment_id, version=form.version.data, due_date=form.due_date.data,
                due_time=form.due_time.data, cut_off_date=form.cut_off_date.data, cut_off_time=form.cut_off_time.data,
                marks_due_date=form.marks_due_date.data, anonymous=form.anonymous.data,
                second_marker_sees_first_mark=form.second_marker_sees_first_mark.data, tolerance=form.tolerance.data)
        except Refused as refusal:
            errors, status = refused(refusal)
            return _settings_page(assignment_id, errors, status, form)
        flash("The assignment settings have been saved.", "success")
        return redirect(url_for("coursework.queue", assignment_id=assignment_id))
    return _settings_page(assignment_id, [], 200)


@bp.route("/marking/attempts/<int:submission_id>/dates", methods=["POST"])
@requires(Role.ADMIN)
def attempt_dates(submission_id):
    """Change a second attempt's dates (admins)."""
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    form = request.form
    try:
        submission = services.update_attempt_dates(
            current_user, submission_id, version=form.get("version"), due_date=form.get("due_date"),
            due_time=form.get("due_time"), cut_off_date=form.get("cut_off_date"),
            cut_off_time=form.get("cut_off_time"))
    except Refused as refusal:
        errors, status = refused(refusal)
        assignment_id = form.get("assignment_id", type=int)
        if assignment_id is None:
            abort(status)
        return _settings_page(assignment_id, errors, status)
    flash(f"The dates of {submission.candidate.label}'s second attempt have been saved.", "success")
    return redirect(url_for("coursework.settings", assignment_id=submission.assignment_id))


def _settings_page(assignment_id, errors, status, form=None):
    """The settings page: the assignment's dates and marking settings, and its second attempts' dates."""
    assignment = services.settings_for(current_user, assignment_id)
    if form is None:
        form = forms.SettingsForm(formdata=None)
        due, cut_off, marks_due = (services.local(assignment.due_at), services.local(assignment.cut_off_at),
                                   services.local(assignment.marks_due_at))
        form.due_date.data, form.due_time.data = due.date().isoformat(), due.strftime("%H:%M")
        form.cut_off_date.data, form.cut_off_time.data = cut_off.date().isoformat(), cut_off.strftime("%H:%M")
        form.marks_due_date.data = marks_due.date().isoformat() if marks_due else ""
        form.anonymous.data = assignment.anonymous
        form.second_marker_sees_first_mark.data = assignment.second_marker_sees_first_mark
        form.tolerance.data = str(assignment.third_marker_tolerance)
    form.version.data = assignment.version
    entered = request.form if request.method == "POST" else {}
    return render_template("coursework/settings.html", assignment=assignment, form=form, errors=errors,
                           attempts=services.second_attempts(assignment), plain_form=forms.PlainForm(),
                           entered=entered), status


@bp.route("/marking/<int:assignment_id>/release", methods=["POST"])
@requires(Role.ADMIN)
def release(assignment_id):
    """Release every ratified mark of the assignment."""
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    try:
        count = marking.release(current_user, assignment_id)
    except Refused as refusal:
        errors, status = refused(refusal)
        return queue(assignment_id, errors, status)
    flash(f"{count} mark{'s' if count != 1 else ''} and feedback released. Trainees have been told.", "success")
    return redirect(url_for("coursework.queue", assignment_id=assignment_id))


@bp.route("/marking/scripts/<int:submission_id>/release", methods=["POST"])
@requires(Role.ADMIN)
def release_script(submission_id):
    """Release one ratified mark."""
    if not forms.PlainForm().validate_on_submit():
        abort(400)
    view = marking.script(current_user, submission_id)
    try:
        marking.release(current_user, view.submission.assignment_id, submission_id)
    except Refused as refusal:
        errors, status = refused(refusal)
        return _render_script(marking.script(current_user, submission_id), errors, status)
    flash("The mark and feedback have been released. The trainee has been told.", "success")
    return redirect(url_for("coursework.script", submission_id=submission_id))


@bp.route("/marking/scripts/<int:submission_id>/correction", methods=["GET", "POST"])
@requires(Role.ADMIN)
def correct(submission_id):
    """Correct a released mark, with a reason."""
    form = forms.CorrectionForm()
    errors, status = [], 200
    if form.validate_on_submit():
        try:
            marking.correct_mark(current_user, submission_id, version=form.version.data, new_mark=form.new_mark.data,
                                  reason=form.reason.data or "")
        except Refused as refusal:
            errors, status = refused(refusal)
        else:
            flash("The correction has been recorded and the trainee has been told.", "success")
            return redirect(url_for("coursework.script", submission_id=submission_id))
    view = marking.script(current_user, submission_id)
    if view.state is not MarkingState.RELEASED:
        abort(404)
    form.version.data = view.submission.version
    return render_template("coursework/correction.html", view=view, form=form, errors=errors), status


@bp.route("/marking/<int:assignment_id>/marks.csv")
@requires(Role.ADMIN)
def export(assignment_id):
    """The marks as CSV for the exam board."""
    assignment, text = marking.export_csv(current_user, assignment_id)
    name = f"marks-{assignment.cohort.slug}-{assignment.assessment_slug}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- external examiners ----------------------------------------------------------------


@bp.route("/external-examining")
@requires(Role.EXTERNAL_EXAMINER)
def examining():
    """The assignments an external examiner may read."""
    return render_template("coursework/examining.html", assignments=marking.examining(current_user))


@bp.route("/external-examining/<int:assignment_id>", methods=["GET", "POST"])
@requires(Role.EXTERNAL_EXAMINER)
def examiner_sample(assignment_id):
    """The moderation sample, read-only, with the examiner's comments."""
    form = forms.ExaminerCommentForm()
    errors, status = [], 200
    if form.validate_on_submit():
        try:
            marking.add_examiner_comment(current_user, assignment_id, submission_id=form.submission_id.data or None,
                                          body=form.body.data or "")
        except Refused as refusal:
            errors, status = refused(refusal)
        else:
            flash("Your comment has been saved.", "success")
            return redirect(url_for("coursework.examiner_sample", assignment_id=assignment_id))
    sample = marking.examiner_sample(current_user, assignment_id)
    return render_template("coursework/examiner_sample.html", sample=sample, form=form, errors=errors), status
