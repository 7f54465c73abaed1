"""Export one evidence pack: check the role, collect, build, hash, sign, zip, audit.

The manifest records the audit log's head as the export saw it (``audit_head``:
seq and hash), so ``ringscope audit verify --pack`` can later show the log
still holds it. The zip is written next to ``out`` under a temporary name,
the export is recorded in the audit log (``evidence.export`` with the pack id,
whether it is masked and the SHA-256 of its manifest), and only then renamed
to ``out``: a pack that exists has always been audited.

Packs are signed by default (``evidence/keys.py``: the environment's key, else
the installation's own Ed25519 key).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from ringscope.audit.log import head, record
from ringscope.auth.roles import Actor
from ringscope.common.version import code_version
from ringscope.evidence import collect as collect_module
from ringscope.evidence.collect import EvidenceError, Subject, collect
from ringscope.evidence.fonts import Fonts, find_fonts
from ringscope.evidence.keys import signer_from_env
from ringscope.evidence.manifest import (
    MANIFEST, SIGNATURE, Signer, build_manifest, sha256, signature_document, zip_bytes_to,
)
from ringscope.evidence.pack import PackOptions, build_pack
from ringscope.graph.database import Graph


@dataclass(frozen=True)
class ExportResult:
    path: Path
    pack_id: str
    created_at: str
    masked: bool
    findings: bool
    files: int
    bytes: int
    manifest_sha256: str
    signature: str | None  # algorithm, when signed
    seconds: dict[str, float] = field(default_factory=dict)


def new_pack_id(now: datetime) -> str:
    return f"pack-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


LIMITS = {name: getattr(collect_module, name) for name in (
    "MAX_MEMBERS", "MAX_LINKS", "MAX_COMMENTS", "MAX_NOTES", "MAX_SANCTIONS", "MAX_AUDIT", "MAX_TIMELINE_DAYS",
    "MAX_CASE_ITEMS", "DERIVATION_DEPTH")}


def export_pack(graph: Graph, subject: Subject, out: Path, actor: Actor, *, unmasked: bool = False,
                run: str = "latest", reason: str = "", signer: Signer | None | bool = True,
                fonts: Fonts | None = None, now: datetime | None = None) -> ExportResult:
    """Write the pack for ``subject`` to ``out``. ``signer=True`` signs with the key the environment
    configures, else the installation's own; pass a ``Signer``, or ``None`` for an unsigned pack."""
    actor.require("export_unmasked" if unmasked else "export_masked")
    out = Path(out)
    if out.is_dir():
        raise EvidenceError(f"--out {out} is a directory; name the zip file to write, e.g. {out / 'pack.zip'}")
    if not out.parent.exists():
        raise EvidenceError(f"--out {out}: the folder {out.parent} does not exist")
    signer = signer_from_env() if signer is True else (signer or None)
    seconds: dict[str, float] = {}

    started = time.monotonic()
    audit_head = head(graph)  # as the export found it, before collecting
    collected = collect(graph, subject, run=run)
    seconds["collect"] = time.monotonic() - started

    started = time.monotonic()
    fonts = fonts or find_fonts()
    built = build_pack(collected, PackOptions(masked=not unmasked, actor=actor, fonts=fonts))
    seconds["build"] = time.monotonic() - started

    started = time.monotonic()
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    created_at = moment.isoformat(timespec="seconds")
    pack_id = new_pack_id(moment)
    fields = {
        "tool": {"name": "ringscope", "version": code_version()},
        "neo4j": {"version": collected.neo4j_version},
        "subject": {"kind": subject.kind, "id": subject.id, "title": built.title},
        "exported_by": {"actor": actor.name, "role": actor.role},
        "masked": not unmasked,
        "findings": built.findings,
        "detection_runs": built.runs,
        "queries": built.queries,
        "limits": LIMITS,
        "audit_head": audit_head,
        "summarised": built.summarised,
        "renderers": {"pdf": f"fpdf2 {_version('fpdf2')}", "charts": f"matplotlib {_version('matplotlib')}",
                      "interactive graph": f"pyvis {_version('pyvis')}", "graphml": f"networkx {_version('networkx')}",
                      "cjk_font": fonts.describe()},
    }
    manifest = build_manifest(files=built.files, pack_id=pack_id, created_at=created_at, fields=fields,
                              signature=signer.declaration() if signer else None)
    files = dict(built.files)
    files[MANIFEST] = manifest
    if signer:
        files[SIGNATURE] = signature_document(signer, manifest)
    temporary = out.with_name(f".{out.name}.{pack_id}.part")
    try:
        zip_bytes_to(temporary, files)
        digest = sha256(manifest)
        record(graph, actor=actor.name, role=actor.role, action="evidence.export", target_type=subject.kind,
               target_id=subject.id, reason=reason,
               details={"pack_id": pack_id, "masked": not unmasked, "sha256_manifest": digest,
                        "file": out.name, "signed": signer.algorithm if signer else None})
        temporary.replace(out)
    finally:
        temporary.unlink(missing_ok=True)
    seconds["write"] = time.monotonic() - started
    return ExportResult(out, pack_id, created_at, not unmasked, built.findings, len(files), out.stat().st_size,
                        digest, signer.algorithm if signer else None, seconds)
