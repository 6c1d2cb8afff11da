"""A person's notifications, and the e-mail outbox for admins."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.authz.access import requires
from lms.authz.roles import Role
from lms.notify import services

bp = Blueprint("notify", __name__)
NAVIGATION = [
    (80, "Notifications", "notify.notifications", None),
    (95, "E-mail outbox", "notify.outbox", frozenset({Role.ADMIN})),
]


@bp.route("/notifications")
@requires()
def notifications():
    return render_template("notify/notifications.html", items=services.notifications_for(current_user),
                           form=FlaskForm())


@bp.route("/notifications/read", methods=["POST"])
@requires()
def mark_all_read():
    if FlaskForm().validate_on_submit():
        services.mark_all_read(current_user)
    return redirect(url_for("notify.notifications"))


@bp.route("/admin/outbox")
@requires(Role.ADMIN)
def outbox():
    return render_template("notify/outbox.html", messages=services.outbox(), show_text=services.outbox_shows_text())
