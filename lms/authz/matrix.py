"""The declared access matrix: every endpoint and who may use it.

This is the reviewable statement of who can do what. Each domain states its
part in ``policies.ENDPOINT_ACCESS``; each view also carries its own
``@public`` / ``@requires`` declaration. A test checks that the two agree,
then signs in as every role and requests every endpoint.
"""

from lms.authz.access import PUBLIC
from lms.domains import modules


def access_matrix() -> dict[str, object]:
    matrix: dict[str, object] = {"static": PUBLIC}
    for policies in modules("policies"):
        overlap = set(matrix) & set(getattr(policies, "ENDPOINT_ACCESS", {}))
        if overlap:
            raise RuntimeError(f"Endpoints declared twice in the access matrix: {sorted(overlap)}")
        matrix.update(getattr(policies, "ENDPOINT_ACCESS", {}))
    return matrix
