"""Certificates: issuing by the rules, the register, PDFs, verification, revocation, Open Badges credentials."""
