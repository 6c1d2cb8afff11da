"""URL arguments for the certificates endpoints in the access-matrix walk.

The walk seeds only the base demo, so no certificate exists: the pages about
one answer 404 to those allowed in (404 counts as allowed), which is what a
missing certificate looks like.
"""

SAMPLE_ARGS = {
    "certificates.show": {"serial": "PSW-2026-000001"},
    "certificates.pdf": {"serial": "PSW-2026-000001"},
    "certificates.transcript": {"serial": "PSW-2026-000001"},
    "certificates.credential": {"serial": "PSW-2026-000001"},
    "certificates.revoke": {"serial": "PSW-2026-000001"},
    "certificates.reissue": {"serial": "PSW-2026-000001"},
    "certificates.cohort": {"slug": "demo-finished"},
    "certificates.issue": {"slug": "demo-finished"},
    "certificates.ask_names": {"slug": "demo-finished"},
    "certificates.cohort_zip": {"slug": "demo-finished"},
    "certificates.batch": {"batch_id": 1},
    "certificates.verify": {"code": "K7QM-3XRT-9PDH-W2CZ-8N"},
    "certificates.status_list": {"number": 1},
}
