"""The decorator vocabulary for access and the default-deny backstop.

Every view declares ``@public`` or ``@requires(...)``. A ``before_request``
hook refuses any endpoint that declares nothing, so forgetting a declaration
closes a page rather than opening it.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from lms.authz.roles import Role

PUBLIC = "public"
SIGNED_IN = "signed-in"
ACCESS_ATTRIBUTE = "_lms_access"


def public(view):
    """Declare a view open to anyone, signed in or not."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def requires(*roles: Role):
    """Declare a view for signed-in people holding any of ``roles``.

    With no roles, any signed-in person may use it. Object-level checks (whose
    diary, which cohort) still happen in the services.
    """
    allowed = frozenset(Role(role) for role in roles) or SIGNED_IN

    def decorate(view):
        setattr(view, ACCESS_ATTRIBUTE, allowed)
        return view

    return decorate


def declared_access(view):
    """The declaration on a view function, or None when it declares nothing."""
    return getattr(view, ACCESS_ATTRIBUTE, None)


def enforce_declared_access():
    """before_request hook: apply the endpoint's declaration, deny when absent."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404 or 405 itself
    view = current_app.view_functions.get(request.endpoint)
    access = declared_access(view)
    if access is None:
        current_app.logger.error("Endpoint %s declares no access; refused.", request.endpoint)
        abort(403)
    if getattr(session, "unavailable", False) and request.endpoint not in ("static", "site.healthz"):
        abort(503)  # the session store (the database) is away: say so rather than sign the person out
    if access == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if wants_json():
            # A script (the assignment editor's autosave) must hear "signed out", not get the sign-in page.
            return signed_out_json()
        return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))
    if access == SIGNED_IN:
        return None
    if not current_user.has_role(*access):
        abort(403)
    return None


def wants_json() -> bool:
    """The request asks for JSON rather than a page (fetch with Accept: application/json)."""
    return request.accept_mimetypes["application/json"] > request.accept_mimetypes["text/html"]


def signed_out_json():
    """401 in JSON for a script whose person is no longer signed in."""
    response = jsonify(error="You have been signed out, so this was not saved. Your text is still on the page: "
                             "copy it, sign in again in a new tab, then paste it back and save.", signed_out=True)
    response.status_code = 401
    return response


def object_or_404(obj, allowed: bool):
    """Return ``obj`` when it exists and the actor may see it; otherwise 404.

    Services use this so that something a person may not see looks exactly
    like something that does not exist.
    """
    if obj is None or not allowed:
        abort(404)
    return obj

