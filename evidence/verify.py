"""``ringscope evidence verify PACK.zip``: check a pack offline, naming every file that fails.

Checks, in order: the zip opens and has no duplicate or unsafe names; the
manifest is there, in canonical form, of a known format, and its digest
matches its content; every file it lists is there with the same SHA-256 and
size; no file is there that it does not list; the signature, when the pack
declares one and a key to check it is configured. A pack with no signature
fails when a verification key is configured (a stripped signature must not
pass).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringscope.evidence.manifest import (
    FORMAT, FORMAT_VERSION, MANIFEST, SIGNATURE, VerifyKeys, canonical, check_signature, manifest_digest, sha256,
    verify_keys_from_env,
)


@dataclass
class PackVerification:
    ok: bool
    problems: list[str] = field(default_factory=list)  # each names the file
    notes: list[str] = field(default_factory=list)  # what was not checked, and why
    signature: str = "not signed"
    manifest: dict[str, Any] | None = None
    manifest_sha256: str | None = None


def verify_pack(path: Path, keys: VerifyKeys | None = None) -> PackVerification:
    keys = verify_keys_from_env() if keys is None else keys
    result = PackVerification(ok=False)
    problems = result.problems
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        problems.append(f"{path}: no such file")
        return result
    except (zipfile.BadZipFile, OSError) as exc:
        problems.append(f"{path}: not a readable zip file ({exc})")
        return result
    with archive:
        names = [info.filename for info in archive.infolist()]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                problems.append(f"{name}: appears twice in the zip")
            seen.add(name)
            if name.startswith("/") or ".." in Path(name).parts:
                problems.append(f"{name}: unsafe path in the zip")
        contents: dict[str, bytes] = {}
        for name in seen:
            try:
                contents[name] = archive.read(name)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:  # CRC error: the zip itself was altered
                problems.append(f"{name}: cannot be read from the zip ({exc})")
    if MANIFEST not in contents:
        if MANIFEST not in seen:
            problems.append(f"{MANIFEST}: missing")
        return result
    raw = contents.pop(MANIFEST)
    result.manifest_sha256 = sha256(raw)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{MANIFEST}: not valid JSON ({exc})")
        return result
    if not isinstance(manifest, dict):
        problems.append(f"{MANIFEST}: not a JSON object")
        return result
    result.manifest = manifest
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        problems.append(f"{MANIFEST}: not a {FORMAT} version {FORMAT_VERSION} manifest "
                        f"(format {manifest.get('format')!r}, version {manifest.get('format_version')!r})")
        return result
    if canonical(manifest) != raw:
        problems.append(f"{MANIFEST}: edited (its bytes are not the canonical form the tool writes)")
    if manifest.get("manifest_digest") != manifest_digest(manifest):
        problems.append(f"{MANIFEST}: edited (manifest_digest does not match its content)")

    listed: dict[str, dict[str, Any]] = {}
    entries = manifest.get("files")
    if not isinstance(entries, list):
        problems.append(f"{MANIFEST}: has no list of files")
        entries = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            problems.append(f"{MANIFEST}: a files entry is malformed")
            continue
        listed[entry["path"]] = entry
    signature_doc = contents.pop(SIGNATURE, None)
    for name in sorted(listed):
        entry = listed[name]
        if name not in contents:
            if name not in seen:
                problems.append(f"{name}: listed in the manifest but missing from the pack")
            continue
        data = contents[name]
        if sha256(data) != entry.get("sha256") or len(data) != entry.get("bytes"):
            problems.append(f"{name}: changed (its SHA-256 does not match the manifest)")
    for name in sorted(set(contents) - set(listed)):
        problems.append(f"{name}: in the pack but not listed in the manifest (added)")

    declared = manifest.get("signature")
    if declared is not None and not isinstance(declared, dict):
        problems.append(f"{MANIFEST}: its signature field is malformed")
        declared = None
    if declared:
        if signature_doc is None:
            problems.append(f"{SIGNATURE}: missing (the manifest says the pack is signed with "
                            f"{declared.get('algorithm')})")
        else:
            try:
                document = json.loads(signature_doc.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                document = None
            if not isinstance(document, dict):
                problems.append(f"{SIGNATURE}: not valid JSON")
            elif canonical(document) != signature_doc or not _well_formed(document, declared):
                problems.append(f"{SIGNATURE}: edited (not the form the tool writes for the declared signature)")
            else:
                verdict, text = check_signature(declared, document, raw, keys)
                if verdict is False:
                    problems.append(text)
                elif verdict is None:
                    result.notes.append(f"signature not checked: {text}")
                    result.signature = f"{declared.get('algorithm')} (not checked)"
                else:
                    result.signature = text
    else:
        if signature_doc is not None:
            problems.append(f"{SIGNATURE}: present but the manifest declares no signature")
        if keys.any():
            problems.append(f"{MANIFEST}: the pack is not signed, but a verification key is configured")
    result.ok = not problems
    return result


def _well_formed(document: dict[str, Any], declared: dict[str, Any]) -> bool:
    """Without the key only the signature's shape can be checked: its fields and its length."""
    if {k: v for k, v in document.items() if k != "signature"} != declared:
        return False
    value = document.get("signature")
    if not isinstance(value, str):
        return False
    if declared.get("algorithm") == "hmac-sha256":
        return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    if declared.get("algorithm") == "ed25519":
        import base64
        import binascii

        try:
            return len(base64.b64decode(value, validate=True)) == 64 and base64.b64encode(
                base64.b64decode(value)).decode("ascii") == value
        except (ValueError, binascii.Error):
            return False
    return True
