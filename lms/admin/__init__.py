"""Admin pages for people and organisations, and the audit log viewer."""
