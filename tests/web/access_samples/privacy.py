"""Sample URL arguments for the personal data pages."""

SAMPLE_ARGS = {
    "privacy.decide_erasure": {"request_id": 1},
}
