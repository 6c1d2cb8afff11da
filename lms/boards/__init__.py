"""Message boards and peer study groups, made safe for sharing lived experience."""
