"""``ringscope evidence verify PACK.zip [--key PUB.pem]``: check a pack offline, naming every file that fails.

A pack is hostile input until it is checked, so the zip is read defensively:
member names must be plain relative paths (no ``/`` or ``\\`` at the start, no
``..``, no backslash, no drive, no control character), members must be
regular files (no symbolic link, device or directory entry), unencrypted,
stored or deflated; nothing is read whole into memory. Each listed member is
hashed in chunks of ``CHUNK`` bytes and read no further than the size the
manifest declares for it (and the zip's own header must declare the same
size), every declared size is capped (``MAX_MEMBER_BYTES``, in all
``MAX_PACK_BYTES``), and a member the manifest does not list is reported
without being read. Every problem is one line naming the file.

Then, in order: the manifest is there, in canonical form, of a known format,
and its digest matches its content; every file it lists is there with the
same SHA-256 and size; no file is there that it does not list; the signature.

The signature's verdict is one of:

- ``trusted``: checked against a key the verifier trusts (``--key PUB.pem``, or
  the keys the environment configures, see ``evidence/keys.py``). With a
  trusted key, a pack that is unsigned, signed by another key, signed with
  another algorithm (an Ed25519 signature is never accepted by an HMAC
  secret, nor the reverse) or whose signature does not match fails.
- ``pack key``: no trusted key; the Ed25519 signature matches the public key
  the pack carries. This shows the pack is unchanged since it was signed with
  that key, not who signed it: anyone can re-sign a forged pack with a key of
  their own.
- ``unchecked``: no trusted key and nothing in the pack to check against
  (HMAC-SHA256, or an Ed25519 pack made before packs carried their key).
- ``unsigned``: no signature, and no trusted key to require one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringscope.common.errors import RingscopeError
from ringscope.evidence.keys import TrustedKey, TrustedKeys, trusted_keys
from ringscope.evidence.manifest import (
    ED25519, FORMAT, FORMAT_VERSION, HMAC_SHA256, MANIFEST, SIGNATURE, canonical, ed25519_key_id, manifest_digest,
    sha256,
)

CHUNK = 1 << 20
MAX_MANIFEST_BYTES = 32 << 20
MAX_SIGNATURE_BYTES = 64 << 10
MAX_MEMBER_BYTES = 1 << 30
MAX_PACK_BYTES = 2 << 30
COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# What reading a hostile zip can raise (bad CRC, corrupt deflate stream, truncated file, lying headers).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError,
              struct.error, OverflowError, KeyError)

TRUSTED, PACK_KEY, UNCHECKED, UNSIGNED = "trusted", "pack key", "unchecked", "unsigned"


class PackError(RingscopeError):
    """A file that is not a pack, or not one that can be read safely."""


@dataclass
class PackVerification:
    ok: bool
    problems: list[str] = field(default_factory=list)  # each names the file
    notes: list[str] = field(default_factory=list)
    signature: str = "not signed"  # what was checked, in words
    trust: str = UNSIGNED  # TRUSTED | PACK_KEY | UNCHECKED | UNSIGNED
    manifest: dict[str, Any] | None = None
    manifest_sha256: str | None = None

    def summary(self) -> str:
        """What ``ok`` means for this pack: the line the CLI prints after ``ok:``."""
        return self.signature


# --- reading the zip -----------------------------------------------------------------------------------------

def unsafe_name(name: str) -> str | None:
    """Why a member name is not a plain relative path, or None."""
    if not name:
        return "an empty name"
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        return "a control character in the name"
    if "\\" in name:
        return "a backslash in the name (a Windows path separator)"
    if name.startswith("/"):
        return "an absolute path"
    if len(name) >= 2 and name[1] == ":":
        return "a drive letter"
    parts = name.split("/")
    if ".." in parts:
        return "a '..' in the path"
    if any(part in ("", ".") for part in parts):
        return "an empty or '.' path segment"
    return None


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a member must not be read: not a regular file, encrypted, or compressed in a way the tool never uses."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.is_dir() or kind == stat.S_IFDIR:
        return "a directory entry (packs hold files only)"
    if kind == stat.S_IFLNK:
        return "a symbolic link (packs hold regular files only)"
    if kind not in (0, stat.S_IFREG):
        return f"not a regular file (file type {kind >> 12:o})"
    if info.flag_bits & 0x1:
        return "encrypted (packs are never encrypted)"
    if info.compress_type not in COMPRESSION:
        return f"compressed with method {info.compress_type} (packs are stored or deflated)"
    return None


def _stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, keep: bool) -> tuple[str, int, bytes]:
    """SHA-256 and size of a member, reading at most ``limit + 1`` bytes in chunks (the bytes too when ``keep``)."""
    digest = hashlib.sha256()
    size = 0
    kept = bytearray()
    with archive.open(info) as member:
        while size <= limit:
            chunk = member.read(min(CHUNK, limit + 1 - size))
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            if keep:
                kept += chunk
    return digest.hexdigest(), size, bytes(kept)


def _read_small(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, name: str) -> bytes:
    if info.file_size > limit:
        raise PackError(f"{name}: {info.file_size:,} bytes, more than a pack's {name} can be ({limit:,})")
    try:
        _, size, data = _stream(archive, info, limit, keep=True)
    except ZIP_ERRORS as exc:
        raise PackError(f"{name}: cannot be read from the zip ({_reason(exc)})") from None
    if size > limit:
        raise PackError(f"{name}: more than {limit:,} bytes (its zip header says {info.file_size:,})")
    return data


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PackError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PackError(f"{path}: a folder, not a zip file") from None
    except ZIP_ERRORS as exc:
        raise PackError(f"{path}: not a readable zip file ({_reason(exc)})") from None


def read_manifest(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The bytes and content of a pack's ``manifest.json`` (``path`` is the zip, or the manifest itself)."""
    path = Path(path)
    try:
        if path.is_file() and not zipfile.is_zipfile(path):
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise PackError(f"{path}: neither a pack (zip) nor a manifest (too big for one)")
            raw = path.read_bytes()
        else:
            with _open(path) as archive:
                info = _only(archive, MANIFEST)
                problem = unsafe_name(info.filename) or _member_problem(info)
                if problem:
                    raise PackError(f"{MANIFEST}: {problem}")
                raw = _read_small(archive, info, MAX_MANIFEST_BYTES, MANIFEST)
    except OSError as exc:
        raise PackError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    document = _parse_manifest(raw)
    if isinstance(document, str):
        raise PackError(f"{path}: {document}")
    return raw, document


def _only(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    found = [info for info in archive.infolist() if info.filename == name]
    if not found:
        raise PackError(f"{name}: missing")
    if len(found) > 1:
        raise PackError(f"{name}: appears twice in the zip")
    return found[0]


def _parse_manifest(raw: bytes) -> dict[str, Any] | str:
    """The manifest as a dict, or what is wrong with it."""
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"{MANIFEST}: not valid JSON ({exc})"
    if not isinstance(manifest, dict):
        return f"{MANIFEST}: not a JSON object"
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        return (f"{MANIFEST}: not a {FORMAT} version {FORMAT_VERSION} manifest "
                f"(format {manifest.get('format')!r}, version {manifest.get('format_version')!r})")
    return manifest


# --- the check -------------------------------------------------------------------------------------------------

def verify_pack(path: Path, keys: TrustedKeys | None = None) -> PackVerification:
    """Check the pack at ``path``; ``keys`` are the trusted keys (default: what the environment configures)."""
    keys = trusted_keys() if keys is None else keys
    result = PackVerification(ok=False)
    try:
        with _open(Path(path)) as archive:
            _check(archive, keys, result)
    except PackError as exc:
        result.problems.append(str(exc))
    except Exception as exc:  # a hostile zip must never end in a traceback; say what happened instead
        result.problems.append(f"{path}: could not be checked ({_reason(exc)})")
    result.ok = not result.problems
    return result


def _check(archive: zipfile.ZipFile, keys: TrustedKeys, result: PackVerification) -> None:
    problems = result.problems
    members: dict[str, zipfile.ZipInfo] = {}
    unreadable: set[str] = set()
    for info in archive.infolist():
        name = info.filename
        if name in members:
            problems.append(f"{name}: appears twice in the zip")
            unreadable.add(name)
            continue
        members[name] = info
        problem = unsafe_name(name)
        if problem:
            problems.append(f"{name!r}: unsafe path in the zip ({problem})")
            unreadable.add(name)
            continue
        problem = _member_problem(info)
        if problem:
            problems.append(f"{name}: {problem}")
            unreadable.add(name)

    if MANIFEST not in members:
        problems.append(f"{MANIFEST}: missing")
        return
    if MANIFEST in unreadable:
        return
    raw = _read_small(archive, members[MANIFEST], MAX_MANIFEST_BYTES, MANIFEST)
    result.manifest_sha256 = sha256(raw)
    manifest = _parse_manifest(raw)
    if isinstance(manifest, str):
        problems.append(manifest)
        return
    result.manifest = manifest
    if canonical(manifest) != raw:
        problems.append(f"{MANIFEST}: edited (its bytes are not the canonical form the tool writes)")
    if manifest.get("manifest_digest") != manifest_digest(manifest):
        problems.append(f"{MANIFEST}: edited (manifest_digest does not match its content)")

    listed = _listed(manifest, problems)
    for name in sorted(listed):
        entry = listed[name]
        info = members.get(name)
        if info is None:
            problems.append(f"{name}: listed in the manifest but missing from the pack")
            continue
        if name in unreadable:
            continue
        if info.file_size != entry["bytes"]:
            problems.append(f"{name}: changed (the zip says {info.file_size:,} bytes, the manifest "
                            f"{entry['bytes']:,})")
            continue
        try:
            digest, size, _ = _stream(archive, info, entry["bytes"], keep=False)
        except ZIP_ERRORS as exc:  # a CRC error: the zip itself was altered
            problems.append(f"{name}: cannot be read from the zip ({_reason(exc)})")
            continue
        if size != entry["bytes"] or digest != entry["sha256"]:
            problems.append(f"{name}: changed (its SHA-256 does not match the manifest)")
    for name in sorted(set(members) - set(listed) - {MANIFEST, SIGNATURE}):
        if name not in unreadable:
            problems.append(f"{name}: in the pack but not listed in the manifest (added)")

    signature_doc = None
    if SIGNATURE in members and SIGNATURE not in unreadable:
        try:
            signature_doc = _read_small(archive, members[SIGNATURE], MAX_SIGNATURE_BYTES, SIGNATURE)
        except PackError as exc:
            problems.append(str(exc))
            signature_doc = b""
    elif SIGNATURE in members:
        signature_doc = b""
    _check_signature(manifest, raw, signature_doc, keys, result)


def _listed(manifest: dict[str, Any], problems: list[str]) -> dict[str, dict[str, Any]]:
    """The manifest's files, each with a safe path, a SHA-256 and a size within the caps."""
    entries = manifest.get("files")
    if not isinstance(entries, list):
        problems.append(f"{MANIFEST}: has no list of files")
        return {}
    listed: dict[str, dict[str, Any]] = {}
    total = 0
    for entry in entries:
        path = entry.get("path") if isinstance(entry, dict) else None
        size = entry.get("bytes") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not isinstance(digest, str) or type(size) is not int:
            problems.append(f"{MANIFEST}: a files entry is malformed")
            continue
        problem = unsafe_name(path)
        if problem or path in (MANIFEST, SIGNATURE):
            problems.append(f"{MANIFEST}: lists an unsafe path {path!r} ({problem or 'reserved name'})")
            continue
        if not 0 <= size <= MAX_MEMBER_BYTES:
            problems.append(f"{path}: the manifest declares {size:,} bytes (a pack's file is at most "
                            f"{MAX_MEMBER_BYTES:,})")
            continue
        total += size
        if total > MAX_PACK_BYTES:
            problems.append(f"{MANIFEST}: declares more than {MAX_PACK_BYTES:,} bytes in all; not read further")
            break
        listed[path] = entry
    return listed


# --- the signature ----------------------------------------------------------------------------------------------

def _check_signature(manifest: dict[str, Any], raw: bytes, signature_doc: bytes | None, keys: TrustedKeys,
                     result: PackVerification) -> None:
    problems = result.problems
    declared = manifest.get("signature")
    if declared is not None and not isinstance(declared, dict):
        problems.append(f"{MANIFEST}: its signature field is malformed")
        return
    if not declared:
        if signature_doc is not None:
            problems.append(f"{SIGNATURE}: present but the manifest declares no signature")
        if keys.any():
            problems.append(f"{MANIFEST}: the pack is not signed, but a trusted key is given "
                            f"({keys.describe()}): a pack whose signature was removed looks like this")
        result.trust = UNSIGNED
        result.signature = ("the pack is NOT SIGNED: its files match its manifest, but nothing shows who made it "
                            "(verify with --key PUB.pem to require a signature)")
        return
    algorithm, key_id = declared.get("algorithm"), declared.get("key_id")
    if signature_doc is None:
        problems.append(f"{SIGNATURE}: missing (the manifest says the pack is signed with {algorithm})")
        return
    if not signature_doc:
        return  # already reported
    try:
        document = json.loads(signature_doc.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        document = None
    if not isinstance(document, dict):
        problems.append(f"{SIGNATURE}: not valid JSON")
        return
    if canonical(document) != signature_doc or not _well_formed(document, declared):
        problems.append(f"{SIGNATURE}: edited (not the form the tool writes for the declared signature)")
        return
    value = document["signature"]
    if algorithm not in (ED25519, HMAC_SHA256):
        problems.append(f"{SIGNATURE}: unknown algorithm {algorithm!r}")
        return
    if keys.any():
        _against_trusted(algorithm, key_id, declared, value, raw, keys, result)
    elif algorithm == ED25519 and declared.get("public_key"):
        _against_pack_key(key_id, declared["public_key"], value, raw, result)
    else:
        result.trust = UNCHECKED
        what = "HMAC-SHA256" if algorithm == HMAC_SHA256 else "Ed25519"
        how = ("set RINGSCOPE_EVIDENCE_HMAC_KEY to check it" if algorithm == HMAC_SHA256 else
               "the pack carries no public key; verify with --key PUB.pem")
        result.signature = (f"files and manifest intact; the {what} signature (key {key_id}) was NOT checked: "
                            f"no trusted key is configured ({how})")
        result.notes.append(f"signature not checked: signed with {what} key {key_id}")


def _against_trusted(algorithm: str, key_id: str, declared: dict[str, Any], value: str, raw: bytes,
                     keys: TrustedKeys, result: PackVerification) -> None:
    problems = result.problems
    candidates = keys.of(algorithm)
    name = "Ed25519" if algorithm == ED25519 else "HMAC-SHA256"
    if not candidates:
        problems.append(f"{SIGNATURE}: signed with {name} key {key_id}, but no trusted {name} key is given "
                        f"(trusted: {keys.describe()}); a signature is only accepted from a trusted key of its "
                        "own algorithm")
        return
    matching = [k for k in candidates if k.key_id == key_id]
    if not matching:
        problems.append(f"{SIGNATURE}: signed with {name} key {key_id}, not by a trusted key "
                        f"(trusted: {keys.describe()})")
        return
    key = matching[0]
    if algorithm == ED25519 and declared.get("public_key") not in (None, _b64_raw(key)):
        problems.append(f"{MANIFEST}: the public key it carries is not the trusted key {key.key_id}")
        return
    if not _matches(key, value, raw):
        problems.append(f"{SIGNATURE}: the {name} signature does not match {MANIFEST}")
        return
    result.trust = TRUSTED
    result.signature = f"signature verified against a trusted key: {key.describe()}"


def _against_pack_key(key_id: str, public_b64: str, value: str, raw: bytes, result: PackVerification) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public_raw = base64.b64decode(public_b64, validate=True)
        public = Ed25519PublicKey.from_public_bytes(public_raw)
    except (ValueError, binascii.Error, TypeError):
        result.problems.append(f"{MANIFEST}: the public key it carries is not an Ed25519 key")
        return
    if ed25519_key_id(public_raw) != key_id:
        result.problems.append(f"{MANIFEST}: the public key it carries does not have the declared key id {key_id}")
        return
    if not _matches(TrustedKey(ED25519, key_id, "the pack", public), value, raw):
        result.problems.append(f"{SIGNATURE}: the Ed25519 signature does not match {MANIFEST}")
        return
    result.trust = PACK_KEY
    result.signature = (f"files and manifest intact; the Ed25519 signature (key {key_id}) was checked only against "
                        "the public key inside the pack, NOT against a trusted key: it shows the pack is unchanged "
                        "since it was signed with that key, not who signed it (compare the key id with the "
                        "exporter's published key, or verify with --key PUB.pem)")
    result.notes.append(f"signature checked against the key inside the pack only (key {key_id})")


def _b64_raw(key: TrustedKey) -> str:
    from ringscope.evidence.manifest import raw_public

    return base64.b64encode(raw_public(key.material)).decode("ascii")


def _matches(key: TrustedKey, value: str, manifest: bytes) -> bool:
    if key.algorithm == HMAC_SHA256:
        return hmac.compare_digest(hmac.new(key.material, manifest, hashlib.sha256).hexdigest(), value)
    from cryptography.exceptions import InvalidSignature

    try:
        key.material.verify(base64.b64decode(value, validate=True), manifest)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def _well_formed(document: dict[str, Any], declared: dict[str, Any]) -> bool:
    """Without the key only the signature's shape can be checked: its fields and its length."""
    if {k: v for k, v in document.items() if k != "signature"} != declared:
        return False
    value = document.get("signature")
    if not isinstance(value, str):
        return False
    if declared.get("algorithm") == HMAC_SHA256:
        return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    if declared.get("algorithm") == ED25519:
        try:
            return len(base64.b64decode(value, validate=True)) == 64 and base64.b64encode(
                base64.b64decode(value)).decode("ascii") == value
        except (ValueError, binascii.Error):
            return False
    return True
