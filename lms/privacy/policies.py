"""Who may use the personal data pages: everyone for their own data; admins decide erasure and retention."""

from lms.authz.access import SIGNED_IN
from lms.authz.roles import Role

ADMINS = frozenset({Role.ADMIN})

ENDPOINT_ACCESS = {
    "privacy.my_data": SIGNED_IN,
    "privacy.download_my_data": SIGNED_IN,
    "privacy.request_erasure": SIGNED_IN,
    "privacy.erasure_requests": ADMINS,
    "privacy.decide_erasure": ADMINS,
    "privacy.retention": ADMINS,
}
