"""The app as gunicorn serves it in the multi-worker test, with one addition: each answer says which
worker process gave it (X-Worker: the pid), so the test can show that both workers were used."""

import os

from lms.app import create_app

_app = create_app()


def app(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, headers + [("X-Worker", str(os.getpid()))], exc_info)

    return _app(environ, start)
