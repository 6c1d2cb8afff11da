"""Background work behind one small interface.

With LMS_REDIS_URL set, jobs go to an RQ queue for ``lms worker`` (or ``rq worker lms``) to run;
otherwise they run inline. Either way a job starts only after the database
transaction that enqueued it has committed, so a rolled-back request never
sends an e-mail about something that was not saved. A job opens its own
database session (``job_session()``): it never shares the caller's.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.extensions import db

QUEUE_NAME = "lms"
log = logging.getLogger("lms.jobs")
PENDING = "lms_jobs_pending"


def enqueue(function: Callable, *args, **kwargs) -> None:
    """Run ``function(*args, **kwargs)`` in the background once the current transaction commits."""
    db.session.info.setdefault(PENDING, []).append((function, args, kwargs))


def job_session() -> Session:
    """A database session of the job's own."""
    return Session(db.engine, expire_on_commit=False)


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session):
    for function, args, kwargs in session.info.pop(PENDING, []):
        dispatch(function, args, kwargs)


@event.listens_for(Session, "after_rollback")
def _discard_after_rollback(session):
    session.info.pop(PENDING, None)


def dispatch(function, args, kwargs) -> None:
    """Queue the job in Redis; run it here and now when Redis is not configured or is away."""
    redis_url = current_app.config.get("LMS_REDIS_URL")
    if redis_url:
        from redis.exceptions import RedisError

        try:
            queue(redis_url, current_app.config.get("LMS_QUEUE_NAME", QUEUE_NAME)).enqueue(run_in_app, f"{function.__module__}:{function.__qualname__}", args, kwargs)
            return
        except (RedisError, OSError) as error:
            # Falling back keeps e-mails and certificates flowing; the work is done, only later than
            # the page, so it is never lost.
            log.warning("Job queue unavailable (%s); running %s inline.", type(error).__name__, function.__name__)
    function(*args, **kwargs)


def queue(redis_url: str, name: str = QUEUE_NAME):
    from redis import Redis
    from rq import Queue

    return Queue(name, connection=Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5))


_worker_app = None


def _app_for_jobs():
    """The app a job runs in: the one `lms worker` runs inside, or one built once per process."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from lms.app import create_app

        _worker_app = create_app()
    return _worker_app


def run_in_app(target: str, args, kwargs):
    """What an RQ worker runs: import the function and call it in an app context of its own
    (a fresh database session for each job, removed when it ends)."""
    module_name, _, name = target.partition(":")
    function = importlib.import_module(module_name)
    for part in name.split("."):
        function = getattr(function, part)
    with _app_for_jobs().app_context():
        return function(*args, **kwargs)


def work(redis_url: str, name: str = QUEUE_NAME, *, burst: bool = False) -> None:
    """Run queued jobs in this process, one after another (no fork per job, the app already built)."""
    from redis import Redis
    from rq import SimpleWorker

    # No socket timeout here (unlike `queue`): the worker blocks on the queue while it waits for work.
    connection = Redis.from_url(redis_url, socket_connect_timeout=2)
    SimpleWorker([name], connection=connection).work(burst=burst, logging_level="WARNING")
