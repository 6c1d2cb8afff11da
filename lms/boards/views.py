"""Message boards, peer study groups, moderation and search: thin views over lms.boards.services."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.authz.access import requires
from lms.authz.roles import Role
from lms.boards import memberships, moderation, rules, services
from lms.boards.forms import (
    ActionForm,
    AgreementForm,
    BoardSettingsForm,
    GroupForm,
    InviteForm,
    MoveForm,
    PostForm,
    ReasonForm,
    as_int,
    choices,
)
from lms.boards.services import PostInput, Refused
from lms.content.markdown import render_markdown
from lms.database import utcnow
from lms.language.services import suggestions_for

bp = Blueprint("boards", __name__)
NAVIGATION = [
    (40, "Boards", "boards.index", None),
    (42, "Reports", "boards.reports", frozenset({Role.TUTOR, Role.ADMIN})),
]


@bp.errorhandler(Refused)
def refused(error: Refused):
    # Whatever the person had written comes back with the refusal, so that it is never lost.
    kept = (request.form.get("body") or "").strip() if request.method == "POST" else ""
    return render_template("boards/refused.html", message=error.message, kept=kept), error.status


def _page() -> int:
    return rules.page_number(request.args.get("page"))


def _post_input(form: PostForm) -> PostInput:
    return PostInput(
        body=form.body.data or "", title=form.title.data or "", content_note=form.content_note.data or "",
        display_mode=form.display_mode.data or rules.DisplayMode.NAME.value, pseudonym=form.pseudonym.data or "",
        quoted_post_id=as_int(form.quoted_post_id.data), accept_agreement=bool(form.accept_agreement.data))


def _checking_language(form: PostForm) -> bool:
    """The "Check my language" button (for people without JavaScript): show suggestions, post nothing."""
    return request.method == "POST" and "check_language" in request.form


def _editor_values(form: PostForm) -> dict:
    checked = _checking_language(form)
    return {"findings": suggestions_for(form.body.data or "") if checked else [], "language_checked": checked}


# ---------------------------------------------------------------------------
# Boards and threads
# ---------------------------------------------------------------------------

@bp.route("/boards")
@requires()
def index():
    return render_template("boards/index.html", overview=services.boards_overview(current_user, _page()),
                           form=ActionForm())


@bp.route("/boards/<int:board_id>")
@requires()
def board(board_id: int):
    return render_template("boards/board.html", page=services.board_page(current_user, board_id, _page()),
                           form=ActionForm())


@bp.route("/boards/<int:board_id>/new", methods=["GET", "POST"])
@requires()
def new_thread(board_id: int):
    context = services.load_board(current_user, board_id)
    if not context.access.post:
        raise Refused("This board is read-only now, so new threads cannot be started.")
    form = PostForm()
    errors, status = [], 200
    if form.validate_on_submit() and not _checking_language(form):
        result = services.start_thread(current_user, board_id, _post_input(form))
        if result.ok:
            thread = result.value
            flash("Your thread has been started." if thread.approved else
                  "Thank you. Your thread is waiting for a tutor to approve it; only you and the tutors can see it "
                  "until then.", "success")
            return redirect(url_for("boards.thread", thread_id=thread.id))
        errors, status = result.errors, result.status
    return render_template("boards/new_thread.html", context=context, form=form, errors=errors,
                           agreed=services.has_accepted_agreement(current_user),
                           agreement=_agreement(), **_editor_values(form)), status


def _agreement() -> dict:
    return {"title": rules.AGREEMENT_TITLE, "points": rules.AGREEMENT_POINTS, "moderation": rules.AGREEMENT_MODERATION}


def _render_thread(page, form: PostForm, errors=(), status: int = 200, **extra):
    return render_template("boards/thread.html", page=page, form=form, errors=list(errors),
                           action_form=ActionForm(), agreement=_agreement(),
                           **{"findings": [], "language_checked": False, **extra}), status


@bp.route("/boards/threads/<int:thread_id>")
@requires()
def thread(thread_id: int):
    raw = request.args.get("page")
    page = services.thread_page(current_user, thread_id, rules.page_number(raw) if raw else None)
    form = PostForm(formdata=None)
    prefill = services.quote_prefill(current_user, page.context, as_int(request.args.get("quote")))
    if prefill is not None:
        form.body.data = prefill.body
        form.content_note.data = prefill.content_note
        form.quoted_post_id.data = str(prefill.quoted_post_id)
    return _render_thread(page, form)


@bp.route("/boards/threads/<int:thread_id>/reply", methods=["POST"])
@requires()
def reply(thread_id: int):
    form = PostForm()
    if form.validate_on_submit() and not _checking_language(form):
        result = services.reply(current_user, thread_id, _post_input(form))
        if result.ok:
            post = result.value
            flash("Your reply has been posted." if post.status == rules.PostStatus.PUBLISHED else
                  "Thank you. Your reply is waiting for a tutor to approve it.", "success")
            return redirect(url_for("boards.post", post_id=post.id))
        errors, status = result.errors, result.status
    else:
        errors, status = [], 200
    # Show the last page, where the reply form is, keeping what was typed.
    page = services.thread_page(current_user, thread_id, 1_000_000)
    return _render_thread(page, form, errors, status, **_editor_values(form))


@bp.route("/boards/posts/<int:post_id>")
@requires()
def post(post_id: int):
    thread_id, page = services.post_location(current_user, post_id)
    return redirect(url_for("boards.thread", thread_id=thread_id, page=page) + f"#{rules.post_anchor(post_id)}")


@bp.route("/boards/posts/<int:post_id>/edit", methods=["GET", "POST"])
@requires()
def edit_post(post_id: int):
    context, current, first = services.edit_form(current_user, post_id)
    form = PostForm(data={"body": current.body, "title": current.title, "content_note": current.content_note})
    errors, status = [], 200
    if form.validate_on_submit() and not _checking_language(form):
        result = services.edit_post(current_user, post_id, _post_input(form))
        if result.ok:
            flash("Your post has been changed.", "success")
            return redirect(url_for("boards.post", post_id=post_id))
        errors, status = result.errors, result.status
    return render_template("boards/edit_post.html", context=context, form=form, first=first, errors=errors,
                           minutes_left=rules.edit_minutes_left(context.post.created_at, utcnow()),
                           **_editor_values(form)), status


@bp.route("/boards/posts/<int:post_id>/remove", methods=["GET", "POST"])
@requires()
def remove_post(post_id: int):
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        post = services.remove_post(current_user, post_id)
        flash("Your post has been removed.", "success")
        return redirect(url_for("boards.post", post_id=post.id))
    context = services.load_post(current_user, post_id)
    if context.post.author_id != current_user.id:
        raise Refused("You can only remove your own posts. If you are worried about this post, you can report it.",
                      status=404)
    if context.post.status == rules.PostStatus.REMOVED:
        raise Refused("You have already removed this post.", status=400)
    return render_template("boards/remove_post.html", context=context, form=form)


@bp.route("/boards/posts/<int:post_id>/report", methods=["GET", "POST"])
@requires()
def report_post(post_id: int):
    context = moderation.report_context(current_user, post_id)
    form = ReasonForm()
    errors, status = [], 200
    if form.validate_on_submit():
        result = moderation.report_post(current_user, post_id, form.reason.data or "")
        if result.ok:
            flash("Thank you for telling us. A tutor will look at the post. Nobody else is told who reported it.",
                  "success")
            return redirect(url_for("boards.post", post_id=post_id))
        errors, status = result.errors, result.status
    return render_template("boards/report_post.html", context=context, form=form, errors=errors), status


@bp.route("/boards/threads/<int:thread_id>/watch", methods=["POST"])
@requires()
def watch_thread(thread_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        watch = form.action.data != "stop"
        services.set_watching_thread(current_user, thread_id, watch)
        flash("You are watching this thread." if watch else "You have stopped watching this thread.", "success")
    return redirect(url_for("boards.thread", thread_id=thread_id))


@bp.route("/boards/<int:board_id>/watch", methods=["POST"])
@requires()
def watch_board(board_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        watch = form.action.data != "stop"
        services.set_watching_board(current_user, board_id, watch)
        flash("You are watching this board." if watch else "You have stopped watching this board.", "success")
    return redirect(url_for("boards.board", board_id=board_id))


@bp.route("/boards/<int:board_id>/read", methods=["POST"])
@requires()
def mark_board_read(board_id: int):
    if ActionForm().validate_on_submit():
        services.mark_board_read(current_user, board_id)
        flash("Everything on this board is marked as read.", "success")
    return redirect(url_for("boards.board", board_id=board_id))


@bp.route("/boards/<int:board_id>/join", methods=["POST"])
@requires()
def join_board(board_id: int):
    if ActionForm().validate_on_submit():
        board = memberships.join_board(current_user, board_id)
        flash(f"You have joined {board.name}.", "success")
    return redirect(url_for("boards.board", board_id=board_id))


@bp.route("/boards/<int:board_id>/leave", methods=["POST"])
@requires()
def leave_board(board_id: int):
    if ActionForm().validate_on_submit():
        board = memberships.leave_board(current_user, board_id)
        flash(f"You have left {board.name}. You can join again at any time.", "success")
    return redirect(url_for("boards.index"))


@bp.route("/boards/agreement", methods=["GET", "POST"])
@requires()
def agreement():
    form = AgreementForm()
    errors, status = [], 200
    if form.validate_on_submit():
        if form.accept_agreement.data:
            services.accept_agreement(current_user)
            flash("Thank you for accepting the community agreement.", "success")
            return redirect(url_for("boards.index"))
        errors, status = [("accept_agreement", "Tick the box to accept the community agreement.")], 400
    return render_template("boards/agreement.html", form=form, errors=errors, agreement=_agreement(),
                           agreed=services.has_accepted_agreement(current_user)), status


@bp.route("/boards/search")
@requires()
def search():
    query = request.args.get("q", "")
    results = services.search_posts(current_user, query, _page())
    return render_template("boards/search.html", results=results, searched=bool(query.strip()))


# ---------------------------------------------------------------------------
# Peer study groups
# ---------------------------------------------------------------------------

@bp.route("/boards/groups")
@requires()
def groups():
    rows, page = memberships.groups_list(current_user, _page())
    return render_template("boards/groups.html", rows=rows, page=page,
                           can_start=bool(current_user.cohort_ids_for(Role.TRAINEE)), form=ActionForm())


@bp.route("/boards/groups/new", methods=["GET", "POST"])
@requires(Role.TRAINEE)
def new_group():
    cohorts = memberships.trainee_cohorts(current_user)
    if not cohorts:
        raise Refused("Study groups are started by trainees, for trainees of their cohort.", status=403)
    form = GroupForm()
    form.cohort_id.choices = choices((c.id, c.name) for c in cohorts)
    if request.method == "GET":
        form.cohort_id.data = str(cohorts[0].id)
    errors, status = [], 200
    if form.validate_on_submit():
        result = memberships.create_group(current_user, as_int(form.cohort_id.data), form.name.data or "",
                                       form.purpose.data or "", form.membership.data != "invite")
        if result.ok:
            flash(f"Your study group \u201c{result.value.name}\u201d has been set up. You can invite peers now.",
                  "success")
            return redirect(url_for("boards.group", group_id=result.value.id))
        errors, status = result.errors, result.status
    return render_template("boards/new_group.html", form=form, errors=errors, cohorts=cohorts), status


def _render_group(group_id: int, invite_form: InviteForm | None = None, errors=(), status: int = 200):
    page = memberships.group_page(current_user, group_id)
    invite_form = invite_form or InviteForm(formdata=None)
    invite_form.invitee_id.choices = choices([("", "Choose a person")] + [(p.id, p.display_name) for p in page.invitable])
    return render_template("boards/group.html", page=page, invite_form=invite_form, form=ActionForm(),
                           errors=list(errors)), status


@bp.route("/boards/groups/<int:group_id>")
@requires()
def group(group_id: int):
    return _render_group(group_id)


@bp.route("/boards/groups/<int:group_id>/invite", methods=["POST"])
@requires()
def invite(group_id: int):
    form = InviteForm()
    if form.validate_on_submit():
        result = memberships.invite_to_group(current_user, group_id, as_int(form.invitee_id.data))
        if result.ok:
            flash(f"{result.value.display_name} has been invited. They can accept or decline.", "success")
            return redirect(url_for("boards.group", group_id=group_id))
        return _render_group(group_id, form, result.errors, result.status)
    return redirect(url_for("boards.group", group_id=group_id))


@bp.route("/boards/groups/<int:group_id>/join", methods=["POST"])
@requires()
def join_group(group_id: int):
    if ActionForm().validate_on_submit():
        group = memberships.join_group(current_user, group_id)
        flash(f"You have joined \u201c{group.name}\u201d.", "success")
    return redirect(url_for("boards.group", group_id=group_id))


@bp.route("/boards/groups/<int:group_id>/leave", methods=["POST"])
@requires()
def leave_group(group_id: int):
    if ActionForm().validate_on_submit():
        group = memberships.leave_group(current_user, group_id)
        flash(f"You have left \u201c{group.name}\u201d.", "success")
    return redirect(url_for("boards.groups"))


@bp.route("/boards/groups/<int:group_id>/invitation", methods=["POST"])
@requires()
def answer_invitation(group_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        accept = form.action.data == "accept"
        group = memberships.answer_invitation(current_user, group_id, accept)
        flash(f"You have joined \u201c{group.name}\u201d." if accept else "You have declined the invitation.",
              "success")
        if not accept:
            return redirect(url_for("boards.groups"))
    return redirect(url_for("boards.group", group_id=group_id))


# ---------------------------------------------------------------------------
# Moderation
# ---------------------------------------------------------------------------

@bp.route("/boards/reports")
@requires(Role.TUTOR, Role.ADMIN)
def reports():
    queue = moderation.moderation_queue(current_user, rules.page_number(request.args.get("reported")),
                                      rules.page_number(request.args.get("waiting")))
    return render_template("boards/reports.html", queue=queue, form=ActionForm())


@bp.route("/boards/posts/<int:post_id>/hide", methods=["GET", "POST"])
@requires(Role.TUTOR, Role.ADMIN)
def hide_post(post_id: int):
    context = services.load_post(current_user, post_id, moderating=True)
    form = ReasonForm()
    errors, status = [], 200
    if form.validate_on_submit():
        result = moderation.hide_post(current_user, post_id, form.reason.data or "")
        if result.ok:
            flash("The post is hidden. Its author has been told why, privately.", "success")
            return redirect(url_for("boards.reports"))
        errors, status = result.errors, result.status
    return render_template("boards/hide_post.html", context=context, form=form, errors=errors,
                           body_html=render_markdown(context.post.body)), status


@bp.route("/boards/posts/<int:post_id>/approve", methods=["POST"])
@requires(Role.TUTOR, Role.ADMIN)
def approve_post(post_id: int):
    if ActionForm().validate_on_submit():
        moderation.approve_post(current_user, post_id)
        flash("The post is approved and everyone on the board can read it now.", "success")
    return redirect(url_for("boards.reports"))


@bp.route("/boards/posts/<int:post_id>/keep", methods=["POST"])
@requires(Role.TUTOR, Role.ADMIN)
def keep_post(post_id: int):
    if ActionForm().validate_on_submit():
        moderation.keep_post(current_user, post_id)
        flash("The reports are closed and the post stays up.", "success")
    return redirect(url_for("boards.reports"))


@bp.route("/boards/threads/<int:thread_id>/moderate", methods=["POST"])
@requires(Role.TUTOR, Role.ADMIN)
def moderate_thread(thread_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        action = form.action.data or ""
        moderation.moderate_thread(current_user, thread_id, action)
        flash({"lock": "The thread is locked: no new replies can be added.",
               "unlock": "The thread is open for replies again.",
               "pin": "The thread is pinned to the top of the board.",
               "unpin": "The thread is no longer pinned."}[action], "success")
    return redirect(url_for("boards.thread", thread_id=thread_id))


@bp.route("/boards/threads/<int:thread_id>/move", methods=["GET", "POST"])
@requires(Role.TUTOR, Role.ADMIN)
def move_thread(thread_id: int):
    context = services.load_thread(current_user, thread_id)
    if not context.access.moderate:
        raise Refused("Only the board's tutors can move threads.", status=403)
    targets = moderation.move_targets(current_user, context)
    form = MoveForm()
    form.board_id.choices = choices((b.id, b.name) for b in targets)
    errors, status = [], 200
    if form.validate_on_submit():
        result = moderation.move_thread(current_user, thread_id, as_int(form.board_id.data))
        if result.ok:
            flash("The thread has been moved.", "success")
            return redirect(url_for("boards.thread", thread_id=thread_id))
        errors, status = result.errors, result.status
    return render_template("boards/move_thread.html", context=context, form=form, errors=errors,
                           targets=targets), status


@bp.route("/boards/<int:board_id>/settings", methods=["GET", "POST"])
@requires(Role.TUTOR, Role.ADMIN)
def board_settings(board_id: int):
    context = services.load_board(current_user, board_id)
    if not context.access.moderate or context.board.kind == rules.BoardKind.GROUP:
        raise Refused("Only the board's tutors can change its settings.", status=403)
    form = BoardSettingsForm(obj=context.board)
    if form.validate_on_submit():
        moderation.update_board_settings(current_user, board_id, form.premoderated.data, form.allow_pseudonyms.data)
        flash("The board's settings have been saved.", "success")
        return redirect(url_for("boards.board", board_id=board_id))
    return render_template("boards/settings.html", context=context, form=form)
