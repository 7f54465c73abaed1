"""The manifest, the SHA-256 of every file, the optional signature, and the zip itself.

``manifest.json`` is written in one canonical form (sorted keys, two-space
indent, UTF-8, a final newline) and carries ``manifest_digest``, the SHA-256
of that form without the digest field: an edit anywhere in the manifest
either breaks the form or the digest. The export's audit entry records the
SHA-256 of the manifest's bytes, which ties the pack to the tamper-evident
audit log.

Signing (optional), over the exact bytes of ``manifest.json``, stored in
``signature.json`` and declared in the manifest (so removing the signature is
noticed):

- Ed25519: ``RINGSCOPE_EVIDENCE_SIGNING_KEY`` = path of a PEM private key
  (PKCS#8, unencrypted: ``openssl genpkey -algorithm ed25519 -out key.pem``);
  verifiers set ``RINGSCOPE_EVIDENCE_VERIFY_KEY`` = path of the PEM public key
  (``openssl pkey -in key.pem -pubout -out key.pub.pem``).
- HMAC-SHA256: ``RINGSCOPE_EVIDENCE_HMAC_KEY`` = the shared secret itself
  (both sides).

When both are set, exports are signed with Ed25519.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ringscope.common.errors import SettingError

FORMAT = "ringscope-evidence-pack"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
HMAC_ENV = "RINGSCOPE_EVIDENCE_HMAC_KEY"
SIGNING_ENV = "RINGSCOPE_EVIDENCE_SIGNING_KEY"
VERIFY_ENV = "RINGSCOPE_EVIDENCE_VERIFY_KEY"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def manifest_digest(document: Mapping[str, Any]) -> str:
    return sha256(canonical({k: v for k, v in document.items() if k != "manifest_digest"}))


def file_entries(files: Mapping[str, bytes]) -> list[dict[str, Any]]:
    return [{"path": path, "sha256": sha256(data), "bytes": len(data)} for path, data in sorted(files.items())]


def build_manifest(*, files: Mapping[str, bytes], pack_id: str, created_at: str, fields: Mapping[str, Any],
                   signature: Mapping[str, str] | None) -> bytes:
    """The manifest's bytes: ``fields`` (subject, runs, queries ...) plus ids, file hashes and the digest."""
    document: dict[str, Any] = dict(fields)
    document.update({
        "format": FORMAT, "format_version": FORMAT_VERSION, "pack_id": pack_id, "created_at": created_at,
        "files": file_entries(files), "signature": dict(signature) if signature else None,
    })
    document["manifest_digest"] = manifest_digest(document)
    return canonical(document)


# --- signing ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signer:
    algorithm: str  # "ed25519" | "hmac-sha256"
    key_id: str
    sign: Callable[[bytes], str]

    def declaration(self) -> dict[str, str]:
        return {"algorithm": self.algorithm, "key_id": self.key_id, "file": SIGNATURE, "signs": MANIFEST}


def hmac_key_id(key: bytes) -> str:
    return sha256(b"ringscope-evidence-hmac-key-id\x00" + key)[:16]


def ed25519_key_id(public_raw: bytes) -> str:
    return sha256(public_raw)[:16]


def _read_key_file(variable: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SettingError(f"{variable}={path}: cannot read the key file ({exc.strerror or exc})") from None


def _private_key(path: str):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(_read_key_file(SIGNING_ENV, path), password=None)
    except (ValueError, TypeError) as exc:
        raise SettingError(f"{SIGNING_ENV}={path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingError(f"{SIGNING_ENV}={path}: not an Ed25519 key (make one with "
                           "`openssl genpkey -algorithm ed25519 -out key.pem`)")
    return key


def _raw_public(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signer_from_env(env: Mapping[str, str] | None = None) -> Signer | None:
    env = os.environ if env is None else env
    if env.get(SIGNING_ENV):
        key = _private_key(env[SIGNING_ENV])
        return Signer("ed25519", ed25519_key_id(_raw_public(key.public_key())),
                      lambda data: base64.b64encode(key.sign(data)).decode("ascii"))
    if env.get(HMAC_ENV):
        secret = env[HMAC_ENV].encode("utf-8")
        return Signer("hmac-sha256", hmac_key_id(secret),
                      lambda data: hmac.new(secret, data, hashlib.sha256).hexdigest())
    return None


def signature_document(signer: Signer, manifest: bytes) -> bytes:
    return canonical({**signer.declaration(), "signature": signer.sign(manifest)})


@dataclass(frozen=True)
class VerifyKeys:
    hmac_secret: bytes | None
    ed25519_public: Any | None  # cryptography Ed25519PublicKey

    def any(self) -> bool:
        return self.hmac_secret is not None or self.ed25519_public is not None


def verify_keys_from_env(env: Mapping[str, str] | None = None) -> VerifyKeys:
    env = os.environ if env is None else env
    secret = env[HMAC_ENV].encode("utf-8") if env.get(HMAC_ENV) else None
    public = None
    if env.get(VERIFY_ENV):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        path = env[VERIFY_ENV]
        try:
            public = serialization.load_pem_public_key(_read_key_file(VERIFY_ENV, path))
        except (ValueError, TypeError) as exc:
            raise SettingError(f"{VERIFY_ENV}={path}: not a PEM public key ({exc})") from None
        if not isinstance(public, Ed25519PublicKey):
            raise SettingError(f"{VERIFY_ENV}={path}: not an Ed25519 public key")
    elif env.get(SIGNING_ENV):
        public = _private_key(env[SIGNING_ENV]).public_key()
    return VerifyKeys(secret, public)


def check_signature(declared: Mapping[str, Any], document: Mapping[str, Any], manifest: bytes,
                    keys: VerifyKeys) -> tuple[bool | None, str]:
    """(True, how) when it verifies, (False, why) when it does not, (None, why) when no key can check it."""
    algorithm = document.get("algorithm")
    if algorithm != declared.get("algorithm") or document.get("key_id") != declared.get("key_id"):
        return False, (f"{SIGNATURE}: says {algorithm} key {document.get('key_id')}, the manifest declares "
                       f"{declared.get('algorithm')} key {declared.get('key_id')}")
    signature = str(document.get("signature") or "")
    if algorithm == "hmac-sha256":
        if keys.hmac_secret is None:
            return None, f"signed with HMAC-SHA256 key {declared.get('key_id')}; set {HMAC_ENV} to check it"
        if hmac_key_id(keys.hmac_secret) != declared.get("key_id"):
            return False, (f"{SIGNATURE}: signed with HMAC key {declared.get('key_id')}, not with the key in "
                           f"{HMAC_ENV}")
        expected = hmac.new(keys.hmac_secret, manifest, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return False, f"{SIGNATURE}: the HMAC does not match {MANIFEST}"
        return True, f"HMAC-SHA256 signature verified (key {declared.get('key_id')})"
    if algorithm == "ed25519":
        if keys.ed25519_public is None:
            return None, f"signed with Ed25519 key {declared.get('key_id')}; set {VERIFY_ENV} to check it"
        if ed25519_key_id(_raw_public(keys.ed25519_public)) != declared.get("key_id"):
            return False, (f"{SIGNATURE}: signed with Ed25519 key {declared.get('key_id')}, not with the key in "
                           f"{VERIFY_ENV}")
        from cryptography.exceptions import InvalidSignature

        try:
            keys.ed25519_public.verify(base64.b64decode(signature, validate=True), manifest)
        except (InvalidSignature, ValueError):
            return False, f"{SIGNATURE}: the Ed25519 signature does not match {MANIFEST}"
        return True, f"Ed25519 signature verified (key {declared.get('key_id')})"
    return False, f"{SIGNATURE}: unknown algorithm {algorithm!r}"


# --- the zip ---------------------------------------------------------------------------------------------------

def zip_bytes_to(path: Path, files: Mapping[str, bytes]) -> None:
    """A zip whose bytes depend only on the files: sorted names, fixed times and attributes."""
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
