"""Error pages in plain language."""

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from lms.extensions import db

PAGES = {
    400: ("Something went wrong with that form",
          "The page could not use what was sent. This can happen if a form was open for a long "
          "time or was sent twice. Go back, reload the page and try again."),
    403: ("You do not have access to this page",
          "Your account does not give access to this page. If you think it should, "
          "contact your tutor or the course admin."),
    404: ("Page not found",
          "We could not find that page. If you typed the web address, check it is correct. "
          "If you followed a link, it may be out of date."),
    405: ("That action is not available here",
          "This page cannot do what was asked. Go back and try again from the page's own buttons."),
    413: ("That file is too large",
          "The file you chose is larger than we can accept. Choose a smaller file, or contact your tutor."),
    429: ("Please wait a little",
          "There have been too many attempts in a short time. Wait a few minutes, then try again."),
    500: ("Sorry, something went wrong on our side",
          "Nothing you did caused this. What you had already saved is safe. Try again in a few minutes."),
    503: ("The service is unavailable for a moment",
          "We cannot reach our database just now. What you had already saved is safe. "
          "Try again in a few minutes."),
}


def render_error(code: int, detail: str | None = None):
    db.session.rollback()
    title, message = PAGES.get(code, PAGES[500])
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return jsonify(error=title, detail=detail or message), code
    try:
        return render_template("errors/error.html", code=code, title=title,
                               message=detail or message), code
    except (OperationalError, InterfaceError):
        # The layout may need the database (the signed-in person); fall back to bare text.
        return f"{title}. {message}", code, {"Content-Type": "text/plain; charset=utf-8"}


def register(app):
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        from flask_login import current_user

        from lms.authz.access import signed_out_json, wants_json

        if wants_json():
            # A script's request (autosave): say why in JSON, so that the page can keep the words.
            if not current_user.is_authenticated:
                return signed_out_json()
            response = jsonify(error="This page has expired. Copy your text, reload the page and paste it back.")
            response.status_code = 400
            return response
        return render_error(400, "This form has expired or was not sent from this site. "
                                 "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code in PAGES:
            return render_error(error.code)
        return error

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error):
        app.logger.error("Database unavailable: %s", type(error).__name__)
        return render_error(503)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        return render_error(500)
