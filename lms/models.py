"""Import every domain's tables once, so SQLAlchemy and Alembic see them all."""

from lms.domains import modules

MODULES = modules("models")
