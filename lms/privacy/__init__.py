"""Personal data: export, erasure on request, and retention settings."""
