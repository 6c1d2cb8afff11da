"""The recovery-focused language checker: gentle, private suggestions on wording."""
