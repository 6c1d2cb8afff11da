"""Open Badges 3.0 credentials: building, signing (VC-JOSE JWT, Ed25519), status lists and checking.

Each certificate has an ``OpenBadgeCredential`` (W3C Verifiable Credentials
2.0 plus the Open Badges 3.0 context), signed as a compact JWS whose payload
is the credential itself (``typ: vc+jwt``), with the usual JWT claims added
(``iss``, ``jti``, ``nbf``, ``iat``) for Open Badges 3.0 verifiers.

The issuer is ``did:web`` of the LMS's public address; its Ed25519 public
key is published at ``/.well-known/jwks.json`` and in
``/.well-known/did.json``. The private key comes from ``LMS_SIGNING_KEY``
(a PEM or a JWK) or is generated once into ``instance/signing_key.pem``
(mode 0600), like the other keys the LMS keeps.

Revocation is a Bitstring Status List: each certificate owns one bit of a
list of 131,072 (16 KB, the smallest the specification allows for privacy);
the bit is set when the certificate is revoked or replaced.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
FHEQ_URL = "https://www.qaa.ac.uk/the-quality-code/qualifications-frameworks"
ALGORITHM = "Ed25519"  # RFC 9864's name; "EdDSA" is deprecated
MEDIA_TYPE = "application/vc+jwt"
LIST_SIZE = 131_072  # bits: 16 KB, the minimum the Bitstring Status List specification sets
KEY_FILE = "signing_key.pem"

ACHIEVEMENT_TYPES = {"credit": "Certificate", "completion": "CertificateOfCompletion"}
FRAMEWORK_NAMES = {
    "FHEQ": "The Framework for Higher Education Qualifications of Degree-Awarding Bodies in "
            "England, Wales and Northern Ireland",
}
FIELD_OF_STUDY = "Mental health peer support"


# --- keys


def load_key(text: str) -> OKPKey:
    """An Ed25519 private key from a PEM block or a JWK (JSON)."""
    text = text.strip()
    if text.startswith("{"):
        key = OKPKey.import_key(json.loads(text))
    else:
        key = OKPKey.import_key(text.encode())
    if key.curve_name != "Ed25519" or not key.is_private:
        raise ValueError("The signing key must be an Ed25519 private key.")
    return key


def new_key_pem() -> str:
    """A new Ed25519 private key as PEM."""
    return OKPKey.generate_key("Ed25519", private=True).as_pem(private=True).decode().strip()


def signing_key(config: dict, instance_path: str | os.PathLike) -> OKPKey:
    """The LMS's signing key: LMS_SIGNING_KEY (setting or environment), else instance/signing_key.pem."""
    from lms.config import keep_secret

    configured = config.get("LMS_SIGNING_KEY") or os.environ.get("LMS_SIGNING_KEY")
    if configured:
        return load_key(configured)
    path = Path(instance_path) / KEY_FILE
    try:
        return load_key(keep_secret(path, new_key_pem))
    except FileExistsError:  # another worker made it a moment ago: use theirs
        return load_key(path.read_text())


def public_jwk(key: OKPKey, kid: str) -> dict:
    """The public half of ``key`` as a JWK, with its key id."""
    return {**key.as_dict(private=False), "kid": kid, "alg": ALGORITHM, "use": "sig"}


# --- the issuer


def issuer_did(base_url: str) -> str:
    """``did:web`` for the LMS's public address (a port is written %3A, as the method requires)."""
    parts = urlsplit(base_url)
    host = parts.hostname or "localhost"
    if parts.port:
        host += quote(f":{parts.port}", safe="")
    path = [quote(segment, safe="") for segment in parts.path.split("/") if segment]
    return ":".join(["did:web", host, *path])


def key_id(base_url: str, key: OKPKey) -> str:
    """The key's id: the issuer's DID with the key's JWK thumbprint as the fragment."""
    return f"{issuer_did(base_url)}#{key.thumbprint()}"


def did_document(base_url: str, key: OKPKey) -> dict:
    """The did:web document that publishes the issuer's public key."""
    did = issuer_did(base_url)
    kid = key_id(base_url, key)
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "verificationMethod": [{"id": kid, "type": "JsonWebKey2020", "controller": did,
                                "publicKeyJwk": key.as_dict(private=False)}],
        "assertionMethod": [kid],
        "authentication": [kid],
    }


def jwks(base_url: str, key: OKPKey) -> dict:
    return {"keys": [public_jwk(key, key_id(base_url, key))]}


@dataclass(frozen=True)
class Issuer:
    """Who issues: the delivering provider, with the awarding body named."""

    base_url: str
    provider: str
    awarding_body: str = ""

    @property
    def did(self) -> str:
        return issuer_did(self.base_url)

    def profile(self) -> dict:
        profile = {"id": self.did, "type": ["Profile"], "name": self.provider, "url": self.base_url}
        if self.awarding_body:
            profile["description"] = f"Delivering provider. Accredited by {self.awarding_body}."
        return profile


# --- the credential


def _timestamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _day_timestamp(day: date) -> str:
    return _timestamp(datetime.combine(day, time(0, 0), tzinfo=timezone.utc))


def status_position(certificate_id: int) -> tuple[int, int]:
    """(status list number, index in it) of a certificate: lists of LIST_SIZE bits, numbered from 1."""
    return (certificate_id - 1) // LIST_SIZE + 1, (certificate_id - 1) % LIST_SIZE


def status_list_url(base_url: str, number: int) -> str:
    return f"{base_url}/credentials/status/{number}"


def achievement_id(base_url: str, course_slug: str, award: str) -> str:
    """A stable id for the achievement (the same for everyone with this award of this course)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base_url}/achievements/{course_slug}/{award}')}"


def credential_for(certificate, issuer: Issuer, criteria: str) -> dict:
    """The unsigned OpenBadgeCredential of a certificate row.

    ``criteria`` is the narrative of what earns the award, from the rules.
    """
    base_url = issuer.base_url
    list_number, index = status_position(certificate.id)
    list_url = status_list_url(base_url, list_number)
    credit = certificate.award == "credit"
    level = f"Level {certificate.level}"
    if credit:
        description = (f"{certificate.credits} credits at {level} ({certificate.framework}) for completing "
                       f"{certificate.course_title}, {certificate.notional_hours} notional hours of learning.")
    else:
        description = (f"A certificate of completion (no credits) for taking part in {certificate.course_title}.")
    achievement = {
        "id": achievement_id(base_url, certificate.course_slug, certificate.award),
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPES[certificate.award],
        "name": certificate.title,
        "description": description,
        "criteria": {"narrative": criteria},
        "fieldOfStudy": FIELD_OF_STUDY,
        "inLanguage": "en-GB",
        "creator": issuer.profile(),
    }
    if credit:
        achievement["creditsAvailable"] = certificate.credits
        achievement["alignment"] = [{
            "type": ["Alignment"],
            "targetName": f"{certificate.framework} {level}",
            "targetDescription": f"{level} of {FRAMEWORK_NAMES.get(certificate.framework, certificate.framework)} "
                                 "(certificate level).",
            "targetFramework": certificate.framework,
            "targetCode": str(certificate.level),
            "targetUrl": FHEQ_URL,
        }]
    subject = {
        "type": ["AchievementSubject"],
        "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                        "identityHash": certificate.holder_name}],
        "achievement": achievement,
    }
    if credit:
        subject["creditsEarned"] = certificate.credits
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{certificate.credential_uuid}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": certificate.title,
        "description": f"{certificate.title}, awarded to {certificate.holder_name}. Certificate {certificate.serial}.",
        "issuer": issuer.profile(),
        "validFrom": _timestamp(certificate.issued_at),
        "awardedDate": _day_timestamp(certificate.awarded_on),
        "credentialSubject": subject,
        "evidence": [{
            "type": ["Evidence"],
            "name": "Exam board ratification",
            "narrative": f"The outcome was ratified by the exam board on {certificate.awarded_on.day} "
                         f"{certificate.awarded_on:%B %Y}.",
        }],
        "credentialStatus": {
            "id": f"{list_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": list_url,
        },
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def sign(credential: dict, key: OKPKey, kid: str) -> str:
    """The credential as a VC-JOSE compact JWS (``typ: vc+jwt``)."""
    payload = dict(credential)
    issuer = credential.get("issuer")
    payload["iss"] = issuer["id"] if isinstance(issuer, dict) else issuer
    payload["jti"] = credential["id"]
    if "validFrom" in credential:
        payload["nbf"] = int(datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00")).timestamp())
    payload["iat"] = int(datetime.now(timezone.utc).timestamp())
    header = {"alg": ALGORITHM, "typ": "vc+jwt", "cty": "vc", "kid": kid}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return jws.serialize_compact(header, body, key, algorithms=[ALGORITHM])


# --- status lists


def encode_status_list(set_indexes, size: int = LIST_SIZE) -> str:
    """The ``encodedList``: multibase base64url (no padding) of the GZIP-compressed bitstring.

    Index 0 is the first (most significant) bit of the first byte.
    """
    bits = bytearray(size // 8)
    for index in set_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def status_bit(encoded: str, index: int) -> bool:
    """Read one bit of an ``encodedList``."""
    text = encoded[1:] if encoded.startswith("u") else encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return bool(raw[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(base_url: str, number: int, set_indexes, now: datetime) -> dict:
    """The BitstringStatusListCredential for list ``number``."""
    url = status_list_url(base_url, number)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(base_url),
        "validFrom": _timestamp(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_status_list(set_indexes),
        },
    }


# --- checking a credential


@dataclass
class Check:
    """The result of checking a signed credential: valid, or the reasons it is not."""

    problems: list[str] = field(default_factory=list)
    credential: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def read_token(token: str) -> tuple[dict | None, dict | None, str | None]:
    """(header, payload, problem) of a compact JWS, without checking its signature."""
    token = token.strip()
    if token.startswith("{"):
        return None, None, ("This file holds JSON, not a signed credential. Use the credential file "
                            "downloaded from the LMS (a .jwt file).")
    try:
        unverified = jws.extract_compact(token.encode())
        header = unverified.headers()
        payload = json.loads(unverified.payload)
    except (JoseError, ValueError, TypeError, UnicodeDecodeError):
        return None, None, "This is not a signed credential: it could not be read as a JSON Web Token."
    if not isinstance(payload, dict):
        return None, None, "This is not a signed credential: its contents are not a credential."
    return header, payload, None


def check_token(token: str, base_url: str, key: OKPKey, is_revoked) -> Check:
    """Check a credential's signature, issuer key and revocation status.

    ``is_revoked(list_number, index)`` answers from the LMS's own register.
    """
    result = Check()
    header, payload, problem = read_token(token)
    if problem:
        result.problems.append(problem)
        return result
    result.credential = payload
    our_kid = key_id(base_url, key)
    if header.get("alg") != ALGORITHM:
        result.problems.append(f"The credential is signed with {header.get('alg')!r}, not with this LMS's "
                               f"Ed25519 key.")
        return result
    kid = str(header.get("kid", ""))
    if kid != our_kid:
        result.problems.append(f"The credential was signed with a key this LMS does not hold ({kid or 'no key id'}), "
                               f"so it was not issued here. This LMS's key is {our_kid}.")
        return result
    try:
        jws.deserialize_compact(token.strip().encode(), key, algorithms=[ALGORITHM])
    except JoseError:
        result.problems.append("The signature does not match: the credential has been changed since it was "
                               "issued, or it was not signed by this LMS.")
        return result
    issuer = payload.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != issuer_did(base_url):
        result.problems.append(f"The credential names {issuer_id!r} as its issuer, not this LMS "
                               f"({issuer_did(base_url)}).")
    if "OpenBadgeCredential" not in (payload.get("type") or []):
        result.problems.append("This is not an Open Badges credential.")
    status = payload.get("credentialStatus") or {}
    list_url = str(status.get("statusListCredential", ""))
    prefix = f"{base_url}/credentials/status/"
    try:
        number = int(list_url[len(prefix):]) if list_url.startswith(prefix) else None
        index = int(status.get("statusListIndex"))
    except (TypeError, ValueError):
        number, index = None, None
    if number is None or index is None or not 0 <= index < LIST_SIZE:
        result.problems.append("The credential has no status entry from this LMS, so its revocation status "
                               "cannot be checked.")
    elif is_revoked(number, index):
        result.problems.append("The status list says this credential has been revoked.")
    return result
