"""Default-deny access control: every endpoint declares who may use it."""
