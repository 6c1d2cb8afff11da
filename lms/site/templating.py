"""Filters and values every template can use."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_login import current_user

from lms.authz.roles import Role


def local_time(value: datetime | None) -> datetime | None:
    """Convert a stored UTC timestamp to the deployment's time zone."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["LMS_TIMEZONE"]))


def format_datetime(value: datetime | None) -> str:
    """'Monday 3 March 2026 at 2:05pm' in the deployment's time zone."""
    value = local_time(value)
    if value is None:
        return ""
    hour = value.strftime("%I").lstrip("0")
    return f"{value:%A} {value.day} {value:%B %Y} at {hour}:{value:%M}{value:%p}".replace("AM", "am").replace("PM", "pm")


def format_date(value: date | datetime | None) -> str:
    """'Monday 3 March 2026'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_time(value)
    return f"{value:%A} {value.day} {value:%B %Y}"


def navigation_entries() -> list[tuple[int, str, str, frozenset | None]]:
    """Every domain's main-navigation entries, in order."""
    from lms.domains import modules

    return sorted(entry for views in modules("views") for entry in getattr(views, "NAVIGATION", []))


def navigation_for(user) -> list[tuple[str, str]]:
    """(label, endpoint) pairs of the main navigation this person sees."""
    if not user.is_authenticated:
        return []
    return [(label, endpoint) for _, label, endpoint, roles in current_app.config["LMS_NAVIGATION"]
            if roles is None or user.has_role(*roles)]


ORDINALS = {1: "First", 2: "Second", 3: "Third", 4: "Fourth", 5: "Fifth"}


def attempt_label(number: int, resubmission_note: bool = True) -> str:
    """'First attempt', 'Second attempt (resubmission)', 'Third attempt (resubmission)', ..."""
    word = ORDINALS.get(number)
    label = f"{word} attempt" if word else f"Attempt {number}"
    return label + (" (resubmission)" if resubmission_note and number > 1 else "")


def register(app) -> None:
    from lms.accounts.forms import SignOutForm

    app.config["LMS_NAVIGATION"] = navigation_entries()
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["attempt"] = attempt_label
    app.jinja_env.filters["localtime"] = local_time

    @app.context_processor
    def layout_values():
        user = current_user
        return {
            "navigation": navigation_for(user),
            "sign_out_form": SignOutForm() if user.is_authenticated else None,
            "role_labels": sorted({Role(r).label for r in user.roles}) if user.is_authenticated else [],
            "current_endpoint": request.endpoint,
        }
