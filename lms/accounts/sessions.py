"""Server-side session records.

The cookie carries only a random token. The session's data live in the
``web_sessions`` table under the token's SHA-256, so signing out (deleting the
row) really ends the session, even for a cookie copied earlier, and idle and
absolute timeouts are enforced here rather than trusted to the browser.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta, timezone

from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from lms.accounts.models import WebSession
from lms.database import utcnow
from lms.extensions import db

serializer = TaggedJSONSerializer()
TABLE = WebSession.__table__
# Refresh "last seen" at most this often, so reading a page is not a write.
TOUCH_INTERVAL = timedelta(seconds=60)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, token=None, last_seen=None, unavailable=False):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.last_seen = last_seen
        self.modified = False
        self.old_token = None
        self.unavailable = unavailable

    @property
    def new(self) -> bool:
        return self.token is None

    def regenerate(self) -> None:
        """Give this session a new id (at sign-in), keeping its data."""
        if self.token:
            self.old_token = self.token
        self.token = None
        self.modified = True

    def end(self) -> None:
        """Forget this session on the server; carry on as a new anonymous one."""
        self.regenerate()
        self.clear()


class ServerSessionInterface(SessionInterface):
    def open_session(self, app, request):
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return ServerSession()
        try:
            return self._load(app, token)
        except SQLAlchemyError:
            db.session.rollback()
            # The database is away: carry on signed out; the page says what it can.
            app.logger.warning("Session store unavailable")
            return ServerSession(unavailable=True)

    def _load(self, app, token):
        # Read through the request's own database session, so the page's queries reuse its connection
        # (one fewer taken from the pool, and pinged, per request).
        digest = token_digest(token)
        row = db.session.execute(
            select(WebSession.data, WebSession.created_at, WebSession.last_seen_at).where(WebSession.id == digest)
        ).first()
        if row is None:
            return ServerSession()
        now = utcnow()
        created_at = _aware(row.created_at)
        last_seen_at = _aware(row.last_seen_at)
        idle = timedelta(minutes=app.config["LMS_SESSION_IDLE_MINUTES"])
        absolute = timedelta(hours=app.config["LMS_SESSION_ABSOLUTE_HOURS"])
        if now - last_seen_at > idle or now - created_at > absolute:
            with db.engine.begin() as conn:
                conn.execute(delete(TABLE).where(TABLE.c.id == digest))
            return ServerSession()
        try:
            data = serializer.loads(row.data)
        except ValueError:
            data = {}
        return ServerSession(data, token=token, last_seen=last_seen_at)

    def save_session(self, app, session, response):
        if session.unavailable:
            return
        try:
            self._save(app, session, response)
        except SQLAlchemyError:
            app.logger.warning("Session store unavailable; session not saved")

    def _save(self, app, session, response):
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        now = utcnow()
        touch = session.last_seen is None or now - session.last_seen > TOUCH_INTERVAL
        if not session.old_token and (not session if session.new else not (session.modified or touch)):
            return  # most requests: nothing to write, so no connection is taken from the pool
        with db.engine.begin() as conn:
            if session.old_token:
                conn.execute(delete(TABLE).where(TABLE.c.id == token_digest(session.old_token)))
            if session.new:
                if not session:
                    if session.old_token:
                        response.delete_cookie(name, domain=domain, path=path)
                    return  # nothing worth keeping: no row, no cookie
                session.token = secrets.token_urlsafe(32)
                conn.execute(insert(TABLE).values(
                    id=token_digest(session.token), user_id=_user_id(session),
                    data=serializer.dumps(dict(session)), created_at=now, last_seen_at=now,
                ))
            elif session.modified:
                conn.execute(update(TABLE).where(TABLE.c.id == token_digest(session.token)).values(
                    data=serializer.dumps(dict(session)), user_id=_user_id(session), last_seen_at=now,
                ))
                session.last_seen = now
            elif touch:
                conn.execute(update(TABLE).where(TABLE.c.id == token_digest(session.token)).values(
                    last_seen_at=now))
                return
            else:
                return
        response.set_cookie(
            name, session.token, httponly=True, secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app), domain=domain, path=path,
        )
        response.vary.add("Cookie")


def _user_id(session) -> int | None:
    value = session.get("_user_id")
    return int(value) if value is not None else None


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def end_other_sessions(user_id: int, keep_token: str | None) -> int:
    """Sign a person out everywhere except (optionally) the current session."""
    statement = delete(TABLE).where(TABLE.c.user_id == user_id)
    if keep_token:
        statement = statement.where(TABLE.c.id != token_digest(keep_token))
    with db.engine.begin() as conn:
        return conn.execute(statement).rowcount


def purge_expired(app) -> int:
    """Delete session rows past their idle or absolute timeout."""
    now = utcnow()
    idle = now - timedelta(minutes=app.config["LMS_SESSION_IDLE_MINUTES"])
    absolute = now - timedelta(hours=app.config["LMS_SESSION_ABSOLUTE_HOURS"])
    with db.engine.begin() as conn:
        return conn.execute(
            delete(TABLE).where((TABLE.c.last_seen_at < idle) | (TABLE.c.created_at < absolute))
        ).rowcount
