"""Strict response headers on every answer."""

from flask import current_app, request
from flask_login import current_user

CSP = ("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'")


def apply_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure or current_app.config["LMS_BASE_URL"].startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # Pages for a signed-in person may show personal data: never store them.
    if request.endpoint != "static" and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response
