"""The application factory."""

from __future__ import annotations

import gc
from pathlib import Path

from flask import Flask, g

from lms import config as settings
from lms.extensions import csrf, db, limiter, login_manager, migrate

PACKAGE_DIR = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """Find a top-level folder (templates, static, courses, assessments).

    In a source checkout they sit beside the package; an installed wheel
    carries them inside it.
    """
    beside = PACKAGE_DIR.parent / name
    return beside if beside.is_dir() else PACKAGE_DIR / name


def create_app(config: dict | None = None) -> Flask:
    """Build the LMS. ``config`` overrides settings read from the environment."""
    instance_path = (config or {}).get("INSTANCE_PATH")
    app = Flask(
        "lms",
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
        instance_path=str(instance_path) if instance_path else str(Path.cwd() / "instance"),
        instance_relative_config=False,
    )
    app.config.update(settings.settings_from_env(Path(app.instance_path)))
    app.config["LMS_COURSES_DIR"] = str(asset_dir("courses"))
    app.config["LMS_ASSESSMENTS_DIR"] = str(asset_dir("assessments"))
    if config:
        app.config.update(config)
    settings.load_instance_secrets(app.config, Path(app.instance_path))

    register_proxies(app)
    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    tune_garbage_collector(app.config["LMS_GC_THRESHOLD"])
    return app


def tune_garbage_collector(threshold: int) -> None:
    """Run the cyclic garbage collector less often (see LMS_GC_THRESHOLD), and leave what the app made at
    start-up (modules, templates, the course) out of its later passes (once a process: a test run builds
    many apps, and what a frozen one held would never be freed)."""
    if threshold:
        gc.set_threshold(threshold, 20, 10)
        if not _frozen:
            _frozen.append(True)
            gc.freeze()


_frozen: list[bool] = []


def register_proxies(app: Flask) -> None:
    """Behind LMS_TRUSTED_PROXIES reverse proxies, take the visitor's address and scheme from their headers.

    Only that many hops of X-Forwarded-For / -Proto / -Host are believed, so a
    visitor cannot forge an address to slip past the per-address sign-in limit.
    """
    hops = int(app.config.get("LMS_TRUSTED_PROXIES") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    from lms.accounts.sessions import ServerSessionInterface

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = None
    login_manager.session_protection = None  # server-side sessions do this job
    app.session_interface = ServerSessionInterface()

    from lms.accounts.services import load_signed_in_user
    from lms.database import raise_on_lazy_load

    login_manager.user_loader(load_signed_in_user)
    # Importing the models registers every table on db.metadata.
    import lms.models  # noqa: F401
    from lms.domains import modules

    # Each domain's start-up checks (e.g. the diary refuses to start with the wrong data key).
    for checks in modules("checks"):
        checks.run(app)

    if app.config.get("LMS_RAISE_ON_LAZY_LOAD"):
        raise_on_lazy_load()


def register_request_hooks(app: Flask) -> None:
    from lms.authz.access import enforce_declared_access, public
    from lms.site.headers import apply_security_headers

    public(app.view_functions["static"])
    app.before_request(enforce_declared_access)

    @app.after_request
    def commit_or_roll_back(response):
        # One commit per request, here: services only flush.
        if response.status_code < 400 and not g.get("rollback_only"):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    app.after_request(apply_security_headers)
    if app.config.get("LMS_COUNT_QUERIES"):
        count_queries_per_request(app)


def count_queries_per_request(app: Flask) -> None:
    """Report each response's SQL statement count in X-Query-Count (benchmarks only)."""
    from flask import has_request_context
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if has_request_context():
            g.query_count = g.get("query_count", 0) + 1

    @app.after_request
    def report(response):
        response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response


def register_blueprints(app: Flask) -> None:
    from lms.domains import modules

    for views in modules("views"):
        app.register_blueprint(views.bp)


def register_errorhandlers(app: Flask) -> None:
    from lms.site.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from lms.site.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    from lms.cli import COMMANDS
    from lms.domains import modules

    for command in COMMANDS + [c for cli in modules("cli") for c in cli.COMMANDS]:
        app.cli.add_command(command)

