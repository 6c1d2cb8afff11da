"""Open Badges 3.0 credentials: contents, signature, published key, status list, and checking them."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from lms.certificates import credentials, services
from lms.certificates.codes import format_code
from lms.extensions import db
from tests.conftest import sign_in
from tests.web.certificates_fixtures import certificate_of, issued, ready  # noqa: F401 (fixtures)


def parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


def reencode(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def test_the_trainee_downloads_an_open_badges_3_credential(app, client, ready, issued):
    certificate = certificate_of("trainee13@example.org")
    sign_in(client, "trainee13@example.org")
    response = client.get(f"/certificates/{certificate.serial}/credential.jwt")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    assert "attachment" in response.headers["Content-Disposition"]
    header, vc = parts(response.get_data(as_text=True))
    base = app.config["LMS_BASE_URL"]
    did = credentials.issuer_did(base)
    assert header["alg"] == "Ed25519" and header["typ"] == "vc+jwt" and header["kid"].startswith(did + "#")
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2",
                              "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == f"urn:uuid:{certificate.credential_uuid}" == vc["jti"]
    assert vc["issuer"]["id"] == did == vc["iss"] and vc["issuer"]["name"] == "Recovery College Training Team"
    assert vc["validFrom"].endswith("Z") and vc["awardedDate"].startswith(certificate.awarded_on.isoformat())
    subject = vc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"] and subject["creditsEarned"] == 20
    assert subject["identifier"][0]["identityHash"] == "Maya Patel"
    achievement = subject["achievement"]
    assert achievement["achievementType"] == "Certificate" and achievement["name"] == "Certificate in Peer Support Work"
    assert achievement["creditsAvailable"] == 20 and achievement["fieldOfStudy"]
    assert "at least 9 of the 11 course days" in achievement["criteria"]["narrative"]
    assert "pass mark 40" in achievement["criteria"]["narrative"]
    alignment = achievement["alignment"][0]
    assert alignment["targetName"] == "FHEQ Level 4" and alignment["targetCode"] == "4"
    assert alignment["targetFramework"] == "FHEQ" and alignment["targetUrl"].startswith("https://")
    assert "ratified by the exam board on" in vc["evidence"][0]["narrative"]
    status = vc["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    assert status["statusListCredential"] == f"{base}/credentials/status/1"
    assert status["statusListIndex"] == str(certificate.id - 1)


def test_a_certificate_of_completion_is_a_certificate_of_completion_without_credits(ready, issued):
    _, vc = parts(services.signed_credential(certificate_of("trainee17@example.org")))
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "CertificateOfCompletion"
    assert "creditsAvailable" not in achievement and "creditsEarned" not in vc["credentialSubject"]


def test_the_signature_checks_out_with_the_published_key(client, ready, issued):
    token = services.signed_credential(certificate_of("trainee13@example.org"))
    keys = client.get("/.well-known/jwks.json")
    assert keys.status_code == 200 and keys.headers["Access-Control-Allow-Origin"] == "*"
    jwk = keys.get_json()["keys"][0]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk
    header, _ = parts(token)
    assert jwk["kid"] == header["kid"]
    public = OKPKey.import_key({k: jwk[k] for k in ("kty", "crv", "x")})
    assert jws.deserialize_compact(token, public, algorithms=["Ed25519"]).payload
    did = client.get("/.well-known/did.json").get_json()
    assert did["verificationMethod"][0]["publicKeyJwk"]["x"] == jwk["x"]
    assert did["assertionMethod"] == [header["kid"]]


def test_the_key_is_generated_once_and_kept_private(app, ready, issued):
    services.signed_credential(certificate_of("trainee13@example.org"))
    path = Path(app.instance_path) / credentials.KEY_FILE
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_text()
    app.extensions.pop("lms_certificates_key", None)
    services.signed_credential(certificate_of("trainee13@example.org"))
    assert path.read_text() == first


def test_a_configured_signing_key_is_used(app, ready, issued):
    pem = credentials.new_key_pem()
    app.config["LMS_SIGNING_KEY"] = pem
    app.extensions.pop("lms_certificates_key", None)
    token = services.signed_credential(certificate_of("trainee13@example.org"))
    assert parts(token)[0]["kid"].endswith("#" + credentials.load_key(pem).thumbprint())


def test_the_status_list_is_a_signed_bitstring_status_list_credential(client, ready, issued):
    certificate = certificate_of("trainee14@example.org")

    def listed():
        response = client.get("/credentials/status/1")
        assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
        header, vc = parts(response.get_data(as_text=True))
        assert header["alg"] == "Ed25519"
        assert vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        assert vc["credentialSubject"]["type"] == "BitstringStatusList"
        return vc["credentialSubject"]["encodedList"]

    assert not credentials.status_bit(listed(), certificate.id - 1)
    services.revoke(None, certificate, "Awarded in error: outcome corrected.")
    db.session.commit()
    encoded = listed()
    assert credentials.status_bit(encoded, certificate.id - 1)
    assert not credentials.status_bit(encoded, certificate_of("trainee13@example.org").id - 1)
    assert client.get("/credentials/status/0").status_code == 404


# --- lms certificates export-credential / verify-credential


def export(runner, certificate) -> str:
    result = runner.invoke(args=["certificates", "export-credential", format_code(certificate.code)])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def verify(runner, tmp_path, token: str):
    path = tmp_path / "credential.jwt"
    path.write_text(token)
    return runner.invoke(args=["certificates", "verify-credential", str(path)])


def test_an_exported_credential_verifies(runner, tmp_path, ready, issued):
    certificate = certificate_of("trainee13@example.org")
    token = export(runner, certificate)
    result = verify(runner, tmp_path, token)
    assert result.exit_code == 0, result.output
    assert "Valid:" in result.output and certificate.serial in result.output
    as_json = runner.invoke(args=["certificates", "export-credential", certificate.serial, "--json"])
    assert json.loads(as_json.output)["credentialSubject"]["creditsEarned"] == 20


def test_a_tampered_credential_fails_its_signature(runner, tmp_path, ready, issued):
    token = export(runner, certificate_of("trainee15@example.org"))
    header, payload = parts(token)
    payload["credentialSubject"]["creditsEarned"] = 120
    tampered = ".".join([token.split(".")[0], reencode(payload), token.split(".")[2]])
    result = verify(runner, tmp_path, tampered)
    assert result.exit_code == 1
    assert "The signature does not match: the credential has been changed since it was issued" in result.output


def test_a_credential_from_another_key_is_not_valid(runner, tmp_path, app, ready, issued):
    certificate = certificate_of("trainee13@example.org")
    _, payload = parts(export(runner, certificate))
    other = OKPKey.generate_key("Ed25519", private=True)
    # Signed by someone else, claiming to be this LMS...
    forged = credentials.sign(payload, other, credentials.key_id(app.config["LMS_BASE_URL"], other))
    result = verify(runner, tmp_path, forged)
    assert result.exit_code == 1 and "signed with a key this LMS does not hold" in result.output
    # ...even when it copies this LMS's key id.
    our_kid = parts(export(runner, certificate))[0]["kid"]
    copied = credentials.sign(payload, other, our_kid)
    result = verify(runner, tmp_path, copied)
    assert result.exit_code == 1 and "The signature does not match" in result.output


def test_a_revoked_credential_is_reported_revoked(runner, tmp_path, ready, issued):
    certificate = certificate_of("trainee14@example.org")
    token = export(runner, certificate)
    services.revoke(None, certificate, "Awarded in error: outcome corrected.")
    db.session.commit()
    result = verify(runner, tmp_path, token)
    assert result.exit_code == 1
    assert "The status list says this credential has been revoked." in result.output
    assert "Revoked on" in result.output and "Awarded in error" in result.output


def test_checking_reads_the_status_list_the_lms_serves(client, ready, issued, monkeypatch):
    """verify-credential answers from the same signed list /credentials/status/<n> serves: what a wallet
    sees is what the command says."""
    certificate = certificate_of("trainee14@example.org")
    token = services.signed_credential(certificate)
    services.revoke(None, certificate, "Awarded in error.")
    db.session.commit()
    number, index = credentials.status_position(certificate.id)
    served = client.get(f"/credentials/status/{number}").get_data(as_text=True)
    _, payload, _ = credentials.read_token(served)
    assert credentials.status_bit(payload["credentialSubject"]["encodedList"], index)
    assert not services.check_credential(token).valid
    # Were the served list to leave the bit out, the check would follow it, as a wallet would.
    monkeypatch.setattr(services, "revoked_indexes", lambda number: [])
    assert not any("revoked" in p for p in services.check_credential(token).problems)


@pytest.mark.parametrize("content", ["not a token at all", '{"@context": []}', "", "a.b.c"])
def test_something_that_is_not_a_credential_is_refused(runner, tmp_path, ready, content):
    result = verify(runner, tmp_path, content)
    assert result.exit_code == 2 and "Not valid:" in result.output


def test_export_of_an_unknown_code(runner, ready):
    result = runner.invoke(args=["certificates", "export-credential", "K7QM-3XRT-9PDH-W2CZ-8N"])
    assert result.exit_code == 2 and "There is no certificate" in result.output
