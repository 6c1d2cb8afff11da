"""The accredited assignment: submissions, extensions, the marking chain and moderation."""
