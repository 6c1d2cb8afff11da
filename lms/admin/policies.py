"""Who may use the admin pages for people, organisations and the audit log: admins only."""

from lms.authz.roles import Role

ADMINS = frozenset({Role.ADMIN})

ENDPOINT_ACCESS = {
    endpoint: ADMINS for endpoint in (
        "admin.people", "admin.person", "admin.deactivate_person", "admin.reactivate_person",
        "admin.organisations", "admin.new_organisation", "admin.edit_organisation", "admin.audit_log",
    )
}
