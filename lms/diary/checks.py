"""Start-up checks of the diary (run by create_app through lms.domains)."""

from lms.diary.crypto import check_data_key


def run(app) -> None:
    """Refuse to start with a malformed data key, or one this database was not encrypted with."""
    check_data_key(app)
