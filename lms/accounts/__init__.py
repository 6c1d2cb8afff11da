"""People, roles, organisations, sign-in and server-side sessions."""
