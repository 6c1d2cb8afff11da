"""Registers, catch-ups and attendance figures for the course days."""
