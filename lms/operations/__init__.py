"""Running the LMS in production: deployment checks, backups and restores."""
