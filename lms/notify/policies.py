from lms.authz.access import SIGNED_IN
from lms.authz.roles import Role

ENDPOINT_ACCESS = {
    "notify.notifications": SIGNED_IN,
    "notify.mark_all_read": SIGNED_IN,
    "notify.outbox": frozenset({Role.ADMIN}),
}
