"""E-mail and in-app notifications."""
