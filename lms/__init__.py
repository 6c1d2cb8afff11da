"""Peer support worker training LMS."""
