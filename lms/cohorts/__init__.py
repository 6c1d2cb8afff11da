"""Cohorts (runs of a course), their schedule of course days, and enrolments."""
