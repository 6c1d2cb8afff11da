"""The course pages: the course, its days, handouts, search, progress and the tutor's "today"."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, abort, current_app, flash, has_request_context, redirect, render_template,
                   request, url_for)
from flask_login import current_user
from werkzeug.routing import BuildError

from lms.authz.access import requires
from lms.authz.roles import Role
from lms.content.markdown import parse_day_link, render_markdown
from lms.curriculum import handouts, outline, services
from lms.curriculum.forms import UnitDoneForm
from lms.curriculum.policies import EVERY_ROLE, RUNS_DAYS, STAFF_AND_SUPERVISORS

bp = Blueprint("curriculum", __name__)
NAVIGATION = [
    (10, "Course", "curriculum.my_course", EVERY_ROLE),
    (12, "Today", "curriculum.today_index", frozenset({Role.TUTOR})),
]


def today() -> date:
    """Today's date in the deployment's time zone."""
    return datetime.now(ZoneInfo(current_app.config["LMS_TIMEZONE"])).date()


def markdown_for(cohort, external: bool = False):
    """A Markdown renderer whose ``day:NN#unit`` links go to this cohort's day pages."""

    def resolve(href: str) -> str | None:
        parsed = parse_day_link(href)
        if parsed is None:
            return None
        number, unit_id = parsed
        url = url_for("curriculum.day", slug=cohort.slug, number=number, _external=external)
        return url + (f"#{unit_id}" if unit_id else "")

    # Course text is the same for every trainee of the cohort: render each piece once per process.
    where = (cohort.slug, external, request.host_url if external else request.script_root) \
        if has_request_context() else None

    def render(text: str, anchor_prefix: str = ""):
        if where is None:
            return render_markdown(text, resolve, anchor_prefix=anchor_prefix)
        return _rendered(text, anchor_prefix, where, resolve)

    return render


_RENDERED: OrderedDict = OrderedDict()
_RENDERED_LOCK = threading.Lock()
_RENDERED_MAX = 2048


def _rendered(text: str, anchor_prefix: str, where: tuple, resolve):
    """Course Markdown rendered for one cohort and address, kept (least recently used out): the same
    text, prefix, cohort and address always give the same HTML. Thread-safe."""
    key = (text, anchor_prefix, where)
    with _RENDERED_LOCK:
        html = _RENDERED.get(key)
        if html is not None:
            _RENDERED.move_to_end(key)
            return html
    html = render_markdown(text, resolve, anchor_prefix=anchor_prefix)
    with _RENDERED_LOCK:
        _RENDERED[key] = html
        if len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return html


def diary_link(number: int, prompt: str) -> str:
    """A new reflective diary entry started from a day's prompt."""
    return f"{request.script_root}/diary/new?" + urlencode({"day": number, "prompt": prompt})


def register_link(cohort, course_day) -> str | None:
    """The attendance register for a course day, when the attendance pages exist."""
    if course_day is None or "attendance.register" not in current_app.view_functions:
        return None
    values = {"slug": cohort.slug, "cohort_slug": cohort.slug, "cohort": cohort.slug, "cohort_id": cohort.id,
              "number": course_day.number, "day": course_day.number, "day_number": course_day.number,
              "course_day_id": course_day.id, "day_id": course_day.id}
    for rule in current_app.url_map.iter_rules("attendance.register"):
        if set(rule.arguments) <= set(values):
            try:
                return url_for("attendance.register", **{name: values[name] for name in rule.arguments})
            except BuildError:
                continue
    return None


def page_values(context) -> dict:
    """Values every course page template uses."""
    return {"context": context, "cohort": context.cohort, "course": context.course,
            "md": markdown_for(context.cohort), "outline": outline, "diary_link": diary_link}


@bp.route("/course")
@requires(*EVERY_ROLE)
def my_course():
    cohorts = services.visible_cohorts(current_user)
    if len(cohorts) == 1:
        return redirect(url_for("curriculum.course", slug=cohorts[0].slug))
    return render_template("curriculum/cohorts.html", cohorts=cohorts, title="Course",
                           endpoint="curriculum.course",
                           empty="You are not linked to a cohort yet. Your course admin will add you.")


@bp.route("/cohorts/<slug>/course")
@requires(*EVERY_ROLE)
def course(slug):
    page = services.course_page(current_user, slug, today())
    return render_template("curriculum/course.html", page=page, **page_values(page.context))


@bp.route("/cohorts/<slug>/course/days/<int:number>")
@requires(*EVERY_ROLE)
def day(slug, number):
    page = services.day_page(current_user, slug, number, today())
    return render_template("curriculum/day.html", page=page, **page_values(page.context))


@bp.route("/cohorts/<slug>/course/units/<unit_id>/done", methods=["POST"])
@requires(Role.TRAINEE)
def mark_unit(slug, unit_id):
    form = UnitDoneForm()
    if not form.validate_on_submit() or form.done.data not in ("0", "1"):
        abort(400)
    done = form.done.data == "1"
    day_, unit = services.set_unit_done(current_user, slug, unit_id, done, today())
    flash(f"“{unit.title}” is marked as done." if done else f"“{unit.title}” is marked as not done.",
          "success")
    return redirect(url_for("curriculum.day", slug=slug, number=day_.number, _anchor=unit.id))


@bp.route("/cohorts/<slug>/course/days/<int:number>/handout.pdf")
@requires(*EVERY_ROLE)
def handout(slug, number):
    context, day_ = services.handout_day(current_user, slug, number, today())
    html = render_template("curriculum/handout.html", context=context, cohort=context.cohort,
                           course=context.course, day=day_, scheduled=context.scheduled(number),
                           md=markdown_for(context.cohort, external=True), outline=outline)
    pdf = handouts.render_pdf(html, current_app.static_folder)
    filename = f"{context.course.slug}-day-{number:02d}-handout.pdf"
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


@bp.route("/cohorts/<slug>/course/search")
@requires(*EVERY_ROLE)
def search(slug):
    query = (request.args.get("q") or "").strip()
    context, hits = services.search(current_user, slug, query, today())
    return render_template("curriculum/search.html", query=query, hits=hits, **page_values(context))


@bp.route("/cohorts/<slug>/course/progress")
@requires(*STAFF_AND_SUPERVISORS)
def progress(slug):
    table = services.progress_table(current_user, slug, today())
    return render_template("curriculum/progress.html", table=table, **page_values(table.context))


@bp.route("/today")
@requires(*RUNS_DAYS)
def today_index():
    cohorts = services.teaching_cohorts(current_user)
    if len(cohorts) == 1:
        return redirect(url_for("curriculum.today", slug=cohorts[0].slug))
    return render_template("curriculum/cohorts.html", cohorts=cohorts, title="Today",
                           endpoint="curriculum.today", empty="You are not teaching a cohort at the moment.")


@bp.route("/cohorts/<slug>/today", endpoint="today")
@requires(*RUNS_DAYS)
def today_view(slug):
    page = services.today_page(current_user, slug, today())
    return render_template("curriculum/today.html", page=page,
                           register_url=register_link(page.context.cohort, page.scheduled),
                           **page_values(page.context))
