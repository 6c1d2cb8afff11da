"""The reflective diary, the wellness plan and what trainees share with their supervisors.

Views are thin: they read the form, call a service with the signed-in person
and render. Every page here is for a signed-in person, so it is sent with
``Cache-Control: no-store`` (lms.site.headers); the PDF says so itself too.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (Blueprint, abort, current_app, flash, jsonify, make_response, redirect, render_template,
                   request, url_for)
from flask_login import current_user

from lms.authz.access import requires
from lms.authz.roles import Role
from lms.diary import printing, services
from lms.diary.forms import CommentForm, ConfirmForm, EntryForm, PlanForm, SettingsForm, ShareForm
from lms.diary.policies import PERSONAL
from lms.language.services import suggestions_for

bp = Blueprint("diary", __name__)
NAVIGATION = [
    (40, "My diary", "diary.index", frozenset({Role.TRAINEE})),
    (41, "Wellness plan", "diary.plan", frozenset({Role.TRAINEE})),
    (42, "Shared with me", "diary.shared_with_me",
     frozenset({Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR})),
]
AUTOSAVE_SECONDS = 20


def today() -> date:
    return datetime.now(ZoneInfo(current_app.config["LMS_TIMEZONE"])).date()


def local_time_text(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(current_app.config["LMS_TIMEZONE"])).strftime("%H:%M")


def supervisor_id_from_form() -> int | None:
    try:
        return int(request.form.get("supervisor_id", ""))
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# The trainee's diary
# ---------------------------------------------------------------------------

@bp.route("/diary", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def index():
    # Searching is a POST (with the form's token), so the words searched for and the tag never appear in
    # an address, where servers and proxies would write them into their logs.
    values = request.form if request.method == "POST" else {}
    tag = values.get("tag", "").strip()
    search = values.get("q", "").strip()
    everything = services.my_entries(current_user)
    entries = services.my_entries(current_user, tag=tag, search=search) if (tag or search) else everything
    return render_template("diary/index.html", entries=entries, tags=services.all_tags(everything), tag=tag,
                           search=search, total=len(everything),
                           settings=services.settings_for(current_user))


def fields_from(form: EntryForm, *, saving: bool) -> tuple[services.EntryFields, list]:
    return services.read_entry_form(
        title=form.title.data or "", body=form.body.data or "", entry_date=form.entry_date.data or "",
        day_number=form.day_number.data or "", prompt=form.prompt.data or "", tags=form.tags.data or "",
        mood=(form.mood.data or "") if services.settings_for(current_user).mood_check_in else "",
        today=today(), max_day=services.course_day_count(current_user), saving=saving)


def fill_form(form: EntryForm, fields: services.EntryFields) -> None:
    content = fields.content
    form.title.data = content.title
    form.body.data = content.body
    form.prompt.data = content.prompt
    form.tags.data = ", ".join(content.tags)
    form.mood.data = str(content.mood) if content.mood else ""
    form.entry_date.data = fields.entry_date.isoformat()
    form.day_number.data = str(fields.day_number) if fields.day_number else ""


def render_entry_form(form: EntryForm, *, entry=None, errors=(), findings=None, restored_at=None, status=200):
    return render_template(
        "diary/entry_form.html", form=form, entry=entry, errors=list(errors), findings=findings or [],
        checked=findings is not None, restored_at=restored_at,
        mood_check_in=services.settings_for(current_user).mood_check_in,
        autosave_seconds=current_app.config.get("LMS_DIARY_AUTOSAVE_SECONDS", AUTOSAVE_SECONDS),
    ), status


def handle_entry_post(form: EntryForm, entry):
    """The three buttons of the entry form: save, save a draft, or check the language."""
    action = request.form.get("action", "save")
    if action == "check":
        problem = services.body_too_long(form.body.data or "")
        if problem:
            return render_entry_form(form, entry=entry, errors=[("body", problem)], status=400)
        return render_entry_form(form, entry=entry, findings=suggestions_for(form.body.data or ""))
    if action == "discard" and entry is not None:
        services.discard_unsaved_changes(current_user, entry)
        flash("Your unsaved changes have been discarded.", "success")
        return redirect(url_for("diary.entry", entry_id=entry.id))
    saving = action != "draft"
    fields, errors = fields_from(form, saving=saving)
    if errors:
        return render_entry_form(form, entry=entry, errors=errors, status=400)
    if not saving:
        if entry is None and not (fields.content.body.strip() or (form.title.data or "").strip()):
            return render_entry_form(form, errors=[("body", "There is nothing to save yet. Write something first.")],
                                     status=400)
        entry = services.save_draft(current_user, entry, fields)
        flash("Your draft has been saved. Only you can see it.", "success")
        return redirect(url_for("diary.edit_entry", entry_id=entry.id))
    if entry is None:
        entry = services.create_entry(current_user, fields, draft=False)
    else:
        services.save_entry(current_user, entry, fields)
    flash("Your entry has been saved. It is private unless you share it.", "success")
    return redirect(url_for("diary.entry", entry_id=entry.id))


@bp.route("/diary/new", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def new_entry():
    form = EntryForm()
    form.set_days(services.course_day_count(current_user))
    if form.validate_on_submit():
        return handle_entry_post(form, None)
    if request.method == "POST":
        abort(400)
    day = request.args.get("day", type=int)
    if day is not None and not 1 <= day <= services.course_day_count(current_user):
        day = None
    prompt = services.normalise_prompt(request.args.get("prompt"))
    fill_form(form, services.EntryFields(
        services.EntryContent(title=services.default_title(day, today()) if day else "", prompt=prompt),
        today(), day))
    return render_entry_form(form)


@bp.route("/diary/entries/<int:entry_id>")
@requires(Role.TRAINEE)
def entry(entry_id: int):
    return entry_page(services.own_entry(current_user, entry_id))


def entry_page(item, errors=(), status=200):
    """The trainee's own entry with its sharing and comments (``errors`` from a share that failed)."""
    return render_template("diary/entry.html", entry=item, fields=services.entry_fields(item),
                           comments=services.comments_on(item), supervisors=services.supervisors_of(current_user),
                           share_form=ShareForm(), mood_check_in=services.settings_for(current_user).mood_check_in,
                           errors=list(errors)), status


@bp.route("/diary/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def edit_entry(entry_id: int):
    item = services.own_entry(current_user, entry_id)
    form = EntryForm()
    form.set_days(services.course_day_count(current_user))
    if form.validate_on_submit():
        return handle_entry_post(form, item)
    if request.method == "POST":
        abort(400)
    changes = services.unsaved_changes(item)
    fill_form(form, changes or services.entry_fields(item))
    form.entry_id.data = str(item.id)
    return render_entry_form(form, entry=item, restored_at=item.draft_saved_at if changes else None)


@bp.route("/diary/autosave", methods=["POST"])
@requires(Role.TRAINEE)
def autosave():
    """Keep a draft while the trainee writes (called by static/js/diary.js). Answers JSON."""
    form = EntryForm()
    form.set_days(services.course_day_count(current_user))
    if not form.validate_on_submit():
        return jsonify(error="Your draft could not be saved: reload the page and try again."), 400
    entry = None
    if (form.entry_id.data or "").strip():
        try:
            entry = services.own_entry(current_user, int(form.entry_id.data))
        except ValueError:
            abort(404)
    fields, errors = fields_from(form, saving=False)
    if errors:
        return jsonify(error=errors[0][1], errors=[{"field": f, "message": m} for f, m in errors]), 400
    if entry is None and not (fields.content.body.strip() or (form.title.data or "").strip()):
        return jsonify(saved=False, message="")
    entry = services.save_draft(current_user, entry, fields)
    message = (f"Draft saved at {local_time_text(entry.draft_saved_at)}. Only you can see it."
               if entry.draft_saved_at else "Nothing has changed since you last saved.")
    return jsonify(saved=True, entry_id=entry.id, edit_url=url_for("diary.edit_entry", entry_id=entry.id),
                   message=message)


@bp.route("/diary/entries/<int:entry_id>/share", methods=["POST"])
@requires(Role.TRAINEE)
def share_entry(entry_id: int):
    item = services.own_entry(current_user, entry_id)
    form = ShareForm()
    if not form.validate_on_submit():
        abort(400)
    problem = services.share_entry(current_user, item, supervisor_id_from_form())
    if problem:
        return entry_page(item, [("sharing", problem)], 400)
    flash("Your entry is shared. You can stop sharing it at any time.", "success")
    return redirect(url_for("diary.entry", entry_id=item.id) + "#sharing")


@bp.route("/diary/entries/<int:entry_id>/withdraw", methods=["POST"])
@requires(Role.TRAINEE)
def withdraw_entry(entry_id: int):
    item = services.own_entry(current_user, entry_id)
    if not ShareForm().validate_on_submit():
        abort(400)
    problem = services.withdraw_entry_share(current_user, item, supervisor_id_from_form())
    if problem:
        return entry_page(item, [("sharing", problem)], 400)
    flash("You have stopped sharing this entry. It is private again.", "success")
    return redirect(url_for("diary.entry", entry_id=item.id) + "#sharing")


@bp.route("/diary/entries/<int:entry_id>/history")
@requires(Role.TRAINEE)
def history(entry_id: int):
    item = services.own_entry(current_user, entry_id)
    return render_template("diary/history.html", entry=item, fields=services.entry_fields(item),
                           versions=services.entry_versions(current_user, item))


@bp.route("/diary/entries/<int:entry_id>/history/<int:version_id>")
@requires(Role.TRAINEE)
def history_version(entry_id: int, version_id: int):
    item = services.own_entry(current_user, entry_id)
    version, fields = services.own_entry_version(current_user, item, version_id)
    return render_template("diary/history_version.html", entry=item, version=version, fields=fields,
                           mood_check_in=services.settings_for(current_user).mood_check_in)


@bp.route("/diary/entries/<int:entry_id>/delete", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def delete_entry(entry_id: int):
    item = services.own_entry(current_user, entry_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.delete_entry(current_user, item)
        flash("The entry has been deleted, with its history and comments.", "success")
        return redirect(url_for("diary.index"))
    if request.method == "POST":
        abort(400)
    return render_template("diary/delete.html", entry=item, fields=services.entry_fields(item), form=form)


@bp.route("/diary/settings", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def settings():
    form = SettingsForm()
    if form.validate_on_submit():
        services.set_mood_check_in(current_user, bool(form.mood_check_in.data))
        flash("Your diary settings have been saved.", "success")
        return redirect(url_for("diary.index"))
    if request.method == "POST":
        abort(400)
    form.mood_check_in.data = services.settings_for(current_user).mood_check_in
    return render_template("diary/settings.html", form=form)


# ---------------------------------------------------------------------------
# Supervisors
# ---------------------------------------------------------------------------

@bp.route("/shared-with-me")
@requires(Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR)
def shared_with_me():
    return render_template("diary/shared_with_me.html", shared=services.shared_with_me(current_user))


@bp.route("/shared-with-me/diary/<int:entry_id>")
@requires(Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR)
def shared_entry(entry_id: int):
    return render_template("diary/shared_entry.html", shared=services.shared_entry_for(current_user, entry_id),
                           form=CommentForm(), errors=[])


@bp.route("/shared-with-me/diary/<int:entry_id>/comments", methods=["POST"])
@requires(Role.ACADEMIC_SUPERVISOR, Role.PERSONAL_SUPERVISOR)
def add_comment(entry_id: int):
    form = CommentForm()
    if not form.validate_on_submit():
        services.shared_entry_for(current_user, entry_id)  # 404 before 400 for an entry not shared
        abort(400)
    shared, problem = services.add_comment(current_user, entry_id, form.body.data or "")
    if problem:
        return render_template("diary/shared_entry.html", shared=shared, form=form,
                               errors=[("body", problem)]), 400
    flash(f"Your comment has been sent. {shared.trainee.display_name} has been told there is a new comment.",
          "success")
    return redirect(url_for("diary.shared_entry", entry_id=entry_id) + "#comments")


# ---------------------------------------------------------------------------
# Wellness plan
# ---------------------------------------------------------------------------

def plan_page(errors=(), status=200):
    plan = services.own_plan(current_user)
    latest = plan.versions[-1] if plan and plan.versions else None
    personal = [link for link in services.supervisors_of(current_user) if link.relationship == PERSONAL]
    return render_template("diary/plan.html", plan=plan, latest=latest, sections=services.plan_sections(latest),
                           plan_sections=services.PLAN_SECTIONS, personal_supervisors=personal,
                           share_form=ShareForm(), errors=list(errors)), status


@bp.route("/wellness-plan")
@requires(Role.TRAINEE)
def plan():
    return plan_page()


@bp.route("/wellness-plan/edit", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def edit_plan():
    form = PlanForm()
    errors = []
    if form.validate_on_submit():
        sections, errors = services.read_plan_form({key: form[key].data for key in services.SECTION_KEYS})
        if not errors:
            version = services.save_plan(current_user, sections)
            flash("Your wellness plan has been saved as a new version." if version
                  else "Nothing had changed, so your plan is as it was.", "success")
            return redirect(url_for("diary.plan"))
    elif request.method == "POST":
        abort(400)
    else:
        current = services.own_plan(current_user)
        sections = services.plan_sections(current.versions[-1] if current and current.versions else None)
        for key, text in sections.items():
            form[key].data = text
    return render_template("diary/plan_form.html", form=form, errors=errors,
                           plan_sections=services.PLAN_SECTIONS), 400 if errors else 200


@bp.route("/wellness-plan/versions/<int:version_id>")
@requires(Role.TRAINEE)
def plan_version(version_id: int):
    version = services.own_plan_version(current_user, version_id)
    return render_template("diary/plan_version.html", version=version,
                           sections=services.plan_sections(version), plan_sections=services.PLAN_SECTIONS)


def pdf_response(owner_name: str, version, filename_stem: str):
    pdf = printing.plan_pdf(owner_name, services.PLAN_SECTIONS, services.plan_sections(version), version)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename_stem}-{version.saved_at:%Y-%m-%d}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/wellness-plan/pdf")
@requires(Role.TRAINEE)
def plan_pdf():
    current = services.own_plan(current_user)
    if current is None or not current.versions:
        abort(404)
    return pdf_response(current_user.display_name, current.versions[-1], "wellness-plan")


@bp.route("/wellness-plan/versions/<int:version_id>/pdf")
@requires(Role.TRAINEE)
def plan_version_pdf(version_id: int):
    version = services.own_plan_version(current_user, version_id)
    return pdf_response(current_user.display_name, version, f"wellness-plan-version-{version.number}")


@bp.route("/wellness-plan/share", methods=["POST"])
@requires(Role.TRAINEE)
def share_plan():
    if not ShareForm().validate_on_submit():
        abort(400)
    problem = services.share_plan(current_user, supervisor_id_from_form())
    if problem:
        return plan_page([("sharing", problem)], 400)
    flash("Your wellness plan is shared with your personal supervisor. You can stop sharing it at any time.",
          "success")
    return redirect(url_for("diary.plan") + "#sharing")


@bp.route("/wellness-plan/withdraw", methods=["POST"])
@requires(Role.TRAINEE)
def withdraw_plan():
    if not ShareForm().validate_on_submit():
        abort(400)
    problem = services.withdraw_plan(current_user)
    if problem:
        return plan_page([("sharing", problem)], 400)
    flash("You have stopped sharing your wellness plan. It is private again.", "success")
    return redirect(url_for("diary.plan") + "#sharing")


@bp.route("/shared-with-me/wellness-plans/<int:plan_id>")
@requires(Role.PERSONAL_SUPERVISOR)
def shared_plan(plan_id: int):
    shared, version = services.shared_plan_for(current_user, plan_id)
    return render_template("diary/shared_plan.html", plan=shared, version=version,
                           sections=services.plan_sections(version), plan_sections=services.PLAN_SECTIONS)


@bp.route("/shared-with-me/wellness-plans/<int:plan_id>/pdf")
@requires(Role.PERSONAL_SUPERVISOR)
def shared_plan_pdf(plan_id: int):
    shared, version = services.shared_plan_for(current_user, plan_id)
    return pdf_response(shared.trainee.display_name, version, "wellness-plan")


@bp.context_processor
def diary_template_values():
    from lms.content.markdown import render_markdown

    return {"markdown": render_markdown, "moods": services.MOODS}
