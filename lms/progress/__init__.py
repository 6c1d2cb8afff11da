"""Credit-level rules, progress for every role, and the exam board."""
