"""Home dashboards, the support page and the health check."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from lms.authz.access import public, requires
from lms.authz.roles import Role
from lms.content.markdown import render_markdown
from lms.site import services
from lms.site.forms import SupportPageForm

bp = Blueprint("site", __name__)
NAVIGATION = [
    (0, "Home", "site.home", None),
    (90, "Support page", "site.edit_support", frozenset({Role.ADMIN})),
]


def today() -> date:
    """Today's date in the deployment's time zone."""
    return datetime.now(ZoneInfo(current_app.config["LMS_TIMEZONE"])).date()


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    return render_template("site/index.html")


@bp.route("/home")
@requires()
def home():
    return render_template("site/home.html", home=services.home_for(current_user, today()), today=today())


@bp.route("/support")
@public
def support():
    return render_template("site/support.html", body=render_markdown(services.support_page_text()))


@bp.route("/admin/support", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit_support():
    form = SupportPageForm()
    errors = []
    if form.validate_on_submit():
        problem = services.support_page_problem(form.text.data or "")
        if problem:
            errors.append(("text", problem))
        else:
            services.update_support_page(current_user, form.text.data)
            flash("The support page has been updated.", "success")
            return redirect(url_for("site.support"))
    elif not form.is_submitted():
        form.text.data = services.support_page_text()
    status = 400 if errors else 200
    return render_template("site/edit_support.html", form=form, errors=errors), status


@bp.route("/healthz")
@public
def healthz():
    if services.database_ok():
        return jsonify(status="ok", database="ok")
    return jsonify(status="unavailable", database="unavailable"), 503
