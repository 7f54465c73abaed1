"""The manifest, the SHA-256 of every file, the signature, and the zip itself.

``manifest.json`` is written in one canonical form (sorted keys, two-space
indent, UTF-8, a final newline) and carries ``manifest_digest``, the SHA-256
of that form without the digest field: an edit anywhere in the manifest
either breaks the form or the digest. The export's audit entry records the
SHA-256 of the manifest's bytes, which ties the pack to the tamper-evident
audit log.

The signature covers the exact bytes of ``manifest.json``, is stored in
``signature.json`` and declared in the manifest (algorithm, key id and, for
Ed25519, the public key itself, so a verifier without a trusted key can at
least check that the pack is consistent with the key it names). Which key
signs, and which keys a verifier trusts, is ``evidence/keys.py``; checking a
signature is ``evidence/verify.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

FORMAT = "ringscope-evidence-pack"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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

ED25519 = "ed25519"
HMAC_SHA256 = "hmac-sha256"


@dataclass(frozen=True)
class Signer:
    algorithm: str  # ED25519 | HMAC_SHA256
    key_id: str
    sign: Callable[[bytes], str]
    public_key: str | None = None  # Ed25519: the raw public key, base64 (carried in the pack)

    def declaration(self) -> dict[str, str]:
        declared = {"algorithm": self.algorithm, "key_id": self.key_id, "file": SIGNATURE, "signs": MANIFEST}
        if self.public_key:
            declared["public_key"] = self.public_key
        return declared


def hmac_key_id(key: bytes) -> str:
    return sha256(b"ringscope-evidence-hmac-key-id\x00" + key)[:16]


def ed25519_key_id(public_raw: bytes) -> str:
    return sha256(public_raw)[:16]


def raw_public(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed25519_signer(private_key) -> Signer:
    raw = raw_public(private_key.public_key())
    return Signer(ED25519, ed25519_key_id(raw), lambda data: base64.b64encode(private_key.sign(data)).decode("ascii"),
                  base64.b64encode(raw).decode("ascii"))


def hmac_signer(secret: bytes) -> Signer:
    return Signer(HMAC_SHA256, hmac_key_id(secret), lambda data: hmac.new(secret, data, hashlib.sha256).hexdigest())


def signature_document(signer: Signer, manifest: bytes) -> bytes:
    return canonical({**signer.declaration(), "signature": signer.sign(manifest)})


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
