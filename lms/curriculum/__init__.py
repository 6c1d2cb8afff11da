"""Delivering the course: versions of its content in the database, course days
for trainees, tutors and supervisors, unit progress, handouts and search."""
