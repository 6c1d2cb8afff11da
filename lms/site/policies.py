"""Who may use the site-wide pages."""

from lms.authz.access import PUBLIC, SIGNED_IN
from lms.authz.roles import Role

ENDPOINT_ACCESS = {
    "site.index": PUBLIC,
    "site.home": SIGNED_IN,
    "site.support": PUBLIC,
    "site.edit_support": frozenset({Role.ADMIN}),
    "site.healthz": PUBLIC,
}
