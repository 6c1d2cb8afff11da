"""Sample URL arguments for the diary's endpoints (ids that need not exist: 404 is an allowed answer)."""

SAMPLE_ARGS = {
    "diary.entry": {"entry_id": 1},
    "diary.edit_entry": {"entry_id": 1},
    "diary.share_entry": {"entry_id": 1},
    "diary.withdraw_entry": {"entry_id": 1},
    "diary.history": {"entry_id": 1},
    "diary.history_version": {"entry_id": 1, "version_id": 1},
    "diary.delete_entry": {"entry_id": 1},
    "diary.plan_version": {"version_id": 1},
    "diary.plan_version_pdf": {"version_id": 1},
    "diary.shared_entry": {"entry_id": 1},
    "diary.add_comment": {"entry_id": 1},
    "diary.shared_plan": {"plan_id": 1},
    "diary.shared_plan_pdf": {"plan_id": 1},
}
