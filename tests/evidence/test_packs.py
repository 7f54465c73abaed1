"""Evidence packs against the real Neo4j: contents, verification, tampering, signing, masking, PDF, determinism."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import ringscope.commands.cli as cli
from ringscope.audit.log import entries
from ringscope.evidence.fonts import find_fonts
from ringscope.evidence.manifest import MANIFEST, SIGNATURE
from ringscope.evidence.pack import FILES
from ringscope.evidence.verify import verify_pack
from tests.evidence.conftest import (
    CASE_ID, CLUSTER_ID, LURE, MEMBERS, ORGANIC, PERSONAL, SHARED_IP, SHARED_PHONE, build_world,
)

pytestmark = pytest.mark.neo4j

EVERY_FILE = set(FILES) | {MANIFEST}


def export(out: Path, *args: str) -> int:
    return cli.main(["evidence", "export", *args, "--out", str(out)])


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(source: Path, target: Path, change) -> None:
    """Copy a pack, letting ``change(files)`` edit the dict of name -> bytes."""
    files = members(source)
    change(files)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def pdf_text(pdf: bytes, tmp_path: Path, first: int | None = None, last: int | None = None) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    pages = (["-f", str(first)] if first else []) + (["-l", str(last)] if last else [])
    return subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def shared(session_graph, tmp_path_factory):
    """One world and one masked pack of its cluster, for the tests that only read the pack."""
    from ringscope.auth.roles import Actor
    from ringscope.evidence.records import Subject
    from ringscope.evidence.export import export_pack
    from ringscope.graph.admin import reset

    reset(session_graph)
    build_world(session_graph)
    out = tmp_path_factory.mktemp("pack") / "pack.zip"
    export_pack(session_graph, Subject("cluster", CLUSTER_ID), out, Actor("alice", "investigator"), signer=None)
    return session_graph, out


@pytest.fixture
def pack(shared) -> Path:
    return shared[1]


def test_a_cluster_pack_holds_every_file_and_verifies(shared, capsys):
    world, pack = shared
    files = members(pack)
    assert set(files) == EVERY_FILE
    manifest = json.loads(files[MANIFEST])
    assert manifest["subject"]["kind"] == "cluster" and manifest["subject"]["id"] == CLUSTER_ID
    assert manifest["exported_by"] == {"actor": "alice", "role": "investigator"}
    assert manifest["masked"] is True and manifest["findings"] is True
    assert manifest["tool"]["version"] and "5." in manifest["neo4j"]["version"]
    run = manifest["detection_runs"][0]
    assert run["run_id"] == CLUSTER_ID.split(":")[0]
    assert run["policy"]["detectors"]["shared_infrastructure"]["weight"] == 0.85
    assert run["watermark"]["comments"] == 90
    names = {q["name"] for q in manifest["queries"]}
    assert {"cluster", "cluster_members", "comments", "sanctions_on", "audit_excerpt"} <= names
    assert all("$" in q["cypher"] and isinstance(q["params"], dict) for q in manifest["queries"])
    cluster_query = next(q for q in manifest["queries"] if q["name"] == "cluster")
    assert cluster_query["params"] == {"cluster_id": CLUSTER_ID}
    assert {f["path"] for f in manifest["files"]} == set(FILES)
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256(files[entry["path"]]).hexdigest()

    report = files["report.html"].decode("utf-8")
    assert LURE in report  # comments in their original text
    assert "shared_infrastructure" in report and "Which detectors fired" in report
    assert "(Cluster " in report and "&lt;-[:TARGETS]-(Sanction:sanc-2)" in report  # the justifying path
    assert "derived from (Sanction:sanc-1)" in report
    assert "more not shown (full list in data/accounts.csv)" in report  # 45 accounts, 40 rows
    assert "propagated from sanc-1" in report  # the audit excerpt
    assert "data:image/png;base64," in report
    sanctions = json.loads(files["sanctions/sanctions.json"])
    assert [s["sanction_id"] for s in sanctions] == ["sanc-1", "sanc-2"]
    assert sanctions[1]["derived_from"] == ["sanc-1"]
    assert sanctions[1]["paths"][0].endswith("-[:USED_DEVICE]->(Device:dev-1)<-[:TARGETS]-(Sanction:sanc-2)")
    accounts = files["data/accounts.csv"].decode("utf-8").splitlines()
    assert len(accounts) == 1 + len(MEMBERS)
    assert files["graph/graph.html"].count(b"<script src=\"http") == 0
    assert b"new vis.Network" in files["graph/graph.html"]

    capsys.readouterr()
    assert cli.main(["evidence", "verify", str(pack)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("ok: ") and "NOT SIGNED" in out and len(out.splitlines()) == 1  # made with signer=None

    exports = entries(world, action="evidence.export")
    assert len(exports) == 1 and exports[0].actor == "alice" and exports[0].target_id == CLUSTER_ID
    details = json.loads(exports[0].details)
    assert details["pack_id"] == manifest["pack_id"] and details["masked"] is True
    assert details["sha256_manifest"] == hashlib.sha256(files[MANIFEST]).hexdigest()


def test_the_graph_files_open_in_networkx_and_agree_with_the_csv(pack):
    import csv
    import io

    import networkx as nx

    files = members(pack)
    graph = nx.read_graphml(io.BytesIO(files["graph/graph.graphml"]))
    nodes = list(csv.DictReader(io.StringIO(files["graph/nodes.csv"].decode("utf-8"))))
    edges = list(csv.DictReader(io.StringIO(files["graph/edges.csv"].decode("utf-8"))))
    assert graph.number_of_nodes() == len(nodes) and graph.number_of_edges() == len(edges)
    labels = {row["label"] for row in nodes}
    assert {"Account", "Device", "IP", "Phone", "Comment", "Note", "Brand", "Intermediary", "Order",
            "Sanction"} <= labels
    assert {"USED_DEVICE", "WROTE", "ON", "TARGETS", "DERIVED_FROM", "MANAGES", "ASSIGNED_TO"} <= {
        row["type"] for row in edges}


@pytest.mark.parametrize("tamper,named", [
    (lambda f: f.__setitem__("report.html", f["report.html"].replace(b"Summary", b"Summery", 1)), "report.html"),
    (lambda f: f.__setitem__("data/comments.csv", f["data/comments.csv"] + b" "), "data/comments.csv"),
    (lambda f: f.pop("graph/nodes.csv"), "graph/nodes.csv"),
    (lambda f: f.__setitem__("notes/extra.txt", b"not from the tool"), "notes/extra.txt"),
    (lambda f: f.__setitem__(MANIFEST, f[MANIFEST].replace(b'"actor": "alice"', b'"actor": "alicia"')), MANIFEST),
    (lambda f: f.__setitem__(MANIFEST, f[MANIFEST].replace(b'\n  "', b'\n   "', 1)), MANIFEST),
])
def test_verify_fails_on_each_kind_of_tampering_and_names_the_file(pack, tmp_path, capsys, tamper, named):
    tampered = tmp_path / "tampered.zip"
    rewrite(pack, tampered, tamper)
    result = verify_pack(tampered)
    assert not result.ok
    assert any(problem.startswith(f"{named}:") for problem in result.problems), result.problems
    capsys.readouterr()
    assert cli.main(["evidence", "verify", str(tampered)]) == 1
    assert named in capsys.readouterr().out


def test_a_manifest_that_lists_a_changed_hash_fails_on_its_digest(pack, tmp_path):
    def forge(files):
        manifest = json.loads(files[MANIFEST])
        files["report.html"] = files["report.html"] + b"<!-- forged -->"
        entry = next(e for e in manifest["files"] if e["path"] == "report.html")
        entry["sha256"] = hashlib.sha256(files["report.html"]).hexdigest()
        entry["bytes"] = len(files["report.html"])
        files[MANIFEST] = (json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()

    forged = tmp_path / "forged.zip"
    rewrite(pack, forged, forge)
    result = verify_pack(forged)
    assert not result.ok and result.problems == [f"{MANIFEST}: edited (manifest_digest does not match its content)"]


def test_hmac_signed_packs_verify_only_with_the_key(world, users, use_test_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RINGSCOPE_EVIDENCE_HMAC_KEY", "s3cret-shared-key")
    out = tmp_path / "signed.zip"
    assert export(out, "--cluster", CLUSTER_ID, "--actor", "alice") == 0
    assert SIGNATURE in members(out)
    result = verify_pack(out)
    assert result.ok and result.trust == "trusted" and "HMAC-SHA256 key" in result.signature

    monkeypatch.setenv("RINGSCOPE_EVIDENCE_HMAC_KEY", "another-key")
    result = verify_pack(out)
    assert not result.ok and result.problems[0].startswith(f"{SIGNATURE}: signed with HMAC-SHA256 key")
    assert "not by a trusted key" in result.problems[0]

    monkeypatch.delenv("RINGSCOPE_EVIDENCE_HMAC_KEY")
    result = verify_pack(out)  # no key here: hashes are checked, the signature is reported unchecked
    assert result.ok and result.trust == "unchecked" and "NOT checked" in result.signature and result.notes
    retouched = tmp_path / "retouched.zip"  # even without the key, an edited signature file fails
    rewrite(out, retouched, lambda f: f.__setitem__(SIGNATURE, f[SIGNATURE].replace(b'": "', b'":  "', 1)))
    assert any(p.startswith(f"{SIGNATURE}: edited") for p in verify_pack(retouched).problems)

    monkeypatch.setenv("RINGSCOPE_EVIDENCE_HMAC_KEY", "s3cret-shared-key")
    stripped = tmp_path / "stripped.zip"
    rewrite(out, stripped, lambda f: f.pop(SIGNATURE))
    assert any(p.startswith(f"{SIGNATURE}: missing") for p in verify_pack(stripped).problems)

    def resign_manifest(files):  # an edit that keeps the manifest's own digest right still breaks the HMAC
        manifest = json.loads(files[MANIFEST])
        manifest["exported_by"]["actor"] = "mallory"
        from ringscope.evidence.manifest import canonical, manifest_digest

        manifest["manifest_digest"] = manifest_digest(manifest)
        files[MANIFEST] = canonical(manifest)

    edited = tmp_path / "edited.zip"
    rewrite(out, edited, resign_manifest)
    assert verify_pack(edited).problems == [f"{SIGNATURE}: the HMAC-SHA256 signature does not match {MANIFEST}"]

    other = tmp_path / "installation-signed.zip"  # without the variable, the installation's Ed25519 key signs
    monkeypatch.delenv("RINGSCOPE_EVIDENCE_HMAC_KEY")
    assert export(other, "--cluster", CLUSTER_ID, "--actor", "alice") == 0
    monkeypatch.setenv("RINGSCOPE_EVIDENCE_HMAC_KEY", "s3cret-shared-key")
    assert any("no trusted Ed25519 key" in p for p in verify_pack(other).problems)


def test_ed25519_signed_packs_verify_with_the_public_key(world, users, use_test_db, tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = tmp_path / "key.pem"
    public = tmp_path / "key.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    monkeypatch.setenv("RINGSCOPE_EVIDENCE_SIGNING_KEY", str(private))
    out = tmp_path / "signed.zip"
    assert export(out, "--cluster", CLUSTER_ID, "--actor", "alice") == 0
    monkeypatch.delenv("RINGSCOPE_EVIDENCE_SIGNING_KEY")
    monkeypatch.setenv("RINGSCOPE_EVIDENCE_VERIFY_KEY", str(public))
    result = verify_pack(out)
    assert result.ok and result.trust == "trusted" and result.signature.startswith(
        "signature verified against a trusted key: Ed25519 key")

    other = Ed25519PrivateKey.generate().public_key()
    public.write_bytes(other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert not verify_pack(out).ok


def _all_text(files: dict[str, bytes], tmp_path: Path) -> dict[str, str]:
    """Every file as searchable text: UTF-8 text files as they are, the PDF through pdftotext, images as bytes."""
    out = {}
    for name, data in files.items():
        if name.endswith(".pdf"):
            out[name] = pdf_text(data, tmp_path) + data.decode("latin-1")
        else:
            out[name] = data.decode("utf-8", errors="replace") + data.decode("latin-1")
    return out


def test_masking_holds_in_every_file(pack, tmp_path):
    files = members(pack)
    texts = _all_text(files, tmp_path)
    for name, text in texts.items():
        for value in PERSONAL:
            assert value not in text, f"{value} leaks in {name}"
    # masked, not dropped: the pseudonyms are there, the same in the report and the graph
    nodes = files["graph/nodes.csv"].decode("utf-8")
    assert "IP:203.0.x.x #" in nodes and "Phone:9f8" in nodes
    pseudonym = next(line.split(",")[0] for line in nodes.splitlines() if line.startswith("IP:203.0.x.x"))
    assert pseudonym.partition(":")[2] in files["report.html"].decode("utf-8")
    assert "192.0.x.x" in files["data/comments.csv"].decode("utf-8")  # an address inside comment text
    first_page = pdf_text(files["report.pdf"], tmp_path, 1, 1)
    assert "Personal data masked" in first_page and "UNMASKED" not in first_page


def test_an_unmasked_pack_needs_the_role_and_says_so_on_page_one(world, users, use_test_db, tmp_path, capsys):
    out = tmp_path / "unmasked.zip"
    assert export(out, "--cluster", CLUSTER_ID, "--actor", "alice", "--unmasked") == 1
    assert "may not export unmasked" in capsys.readouterr().err
    assert not out.exists()
    assert export(tmp_path / "v.zip", "--cluster", CLUSTER_ID, "--actor", "vera") == 1  # a viewer exports nothing

    assert export(out, "--cluster", CLUSTER_ID, "--actor", "bob", "--unmasked") == 0
    files = members(out)
    assert json.loads(files[MANIFEST])["masked"] is False
    assert SHARED_IP in files["graph/nodes.csv"].decode("utf-8")
    assert SHARED_PHONE in files["report.html"].decode("utf-8")
    assert "UNMASKED PERSONAL DATA" in pdf_text(files["report.pdf"], tmp_path, 1, 1)
    assert "UNMASKED PERSONAL DATA" in files["report.html"].decode("utf-8").split("<h2>")[0]
    exports = entries(world, action="evidence.export")
    assert json.loads(exports[0].details)["masked"] is False and exports[0].actor == "bob"


def test_the_pdf_renders_a_page_that_is_not_blank(pack, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    from PIL import Image, ImageStat

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(members(pack)["report.pdf"])
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    page = next(tmp_path.glob("page*.png"))
    image = Image.open(page).convert("L")
    stats = ImageStat.Stat(image)
    assert stats.stddev[0] > 10, "page one is blank"
    assert sum(image.histogram()[:128]) > 500, "page one has almost no ink"
    text = pdf_text(pdf.read_bytes(), tmp_path)
    if find_fonts().cjk_path:
        assert LURE in text.replace("\n", "") and "完美日记" in text


def test_the_same_data_gives_the_same_pack_but_for_its_id_and_time(world, users, use_test_db, tmp_path):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert export(first, "--cluster", CLUSTER_ID, "--actor", "alice") == 0
    assert export(second, "--cluster", CLUSTER_ID, "--actor", "alice") == 0
    a, b = members(first), members(second)
    assert set(a) == set(b) == EVERY_FILE | {SIGNATURE}
    for name in sorted(set(a) - {MANIFEST, SIGNATURE}):  # the signature signs the manifest
        assert a[name] == b[name], f"{name} differs between two exports of the same data"
    ma, mb = json.loads(a[MANIFEST]), json.loads(b[MANIFEST])
    assert ma["pack_id"] != mb["pack_id"]
    assert ma["audit_head"]["seq"] + 1 == mb["audit_head"]["seq"]  # the first export is in the log the second saw
    for m in (ma, mb):
        for key in ("pack_id", "created_at", "manifest_digest", "audit_head"):
            m.pop(key)
    assert ma == mb


def test_an_account_without_findings_gets_a_pack_that_says_so(world, users, use_test_db, tmp_path, capsys):
    out = tmp_path / "organic.zip"
    assert export(out, "--account", ORGANIC, "--actor", "alice") == 0
    files = members(out)
    assert set(files) == EVERY_FILE | {SIGNATURE}
    assert json.loads(files["data/subject.json"])["findings"] is False
    report = files["report.html"].decode("utf-8")
    assert "NO FINDINGS" in report and f"account {ORGANIC} is in no cluster" in report
    assert "NO FINDINGS" in pdf_text(files["report.pdf"], tmp_path, 1, 1)
    assert verify_pack(out).ok

    member = tmp_path / "member.zip"
    assert export(member, "--account", MEMBERS[0], "--actor", "alice") == 0
    files = members(member)
    assert json.loads(files["data/subject.json"])["findings"] is True
    assert "permanent_ban" in files["report.html"].decode("utf-8")


def test_an_account_pack_with_no_detection_run_at_all(graph, users, use_test_db, tmp_path):
    graph.write("CREATE (:Account {account_id: 'lonely', registered_at: datetime('2024-01-01T00:00:00Z')})")
    out = tmp_path / "lonely.zip"
    assert export(out, "--account", "lonely", "--actor", "alice") == 0
    report = members(out)["report.html"].decode("utf-8")
    assert "NO FINDINGS" in report and "no completed detection run" in report


def test_case_packs_and_clear_errors_for_unknown_subjects(world, users, use_test_db, tmp_path, capsys):
    out = tmp_path / "case.zip"
    assert export(out, "--case", CASE_ID, "--actor", "alice") == 0
    files = members(out)
    assert json.loads(files[MANIFEST])["subject"]["kind"] == "case"
    assert "完美日记 comment ring" in files["report.html"].decode("utf-8")
    assert len(files["data/accounts.csv"].decode("utf-8").splitlines()) == 1 + len(MEMBERS)
    capsys.readouterr()

    assert export(tmp_path / "x.zip", "--case", "nope", "--actor", "alice") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ringscope: error: no case 'nope'") and len(err.splitlines()) == 1
    assert export(tmp_path / "x.zip", "--cluster", "nope", "--actor", "alice") == 1
    assert "no cluster 'nope'" in capsys.readouterr().err
    assert export(tmp_path / "x.zip", "--account", "nope", "--actor", "alice") == 1
    assert "no account 'nope'" in capsys.readouterr().err
    assert export(tmp_path / "missing" / "x.zip", "--cluster", CLUSTER_ID, "--actor", "alice") == 1
    assert "does not exist" in capsys.readouterr().err
    assert not list(tmp_path.glob("x.zip"))


def test_verify_reports_a_file_that_is_not_a_pack(tmp_path, capsys):
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"not a zip")
    assert cli.main(["evidence", "verify", str(bogus)]) == 1
    assert "not a readable zip file" in capsys.readouterr().out
    assert cli.main(["evidence", "verify", str(tmp_path / "absent.zip")]) == 1
    assert "no such file" in capsys.readouterr().out


def test_each_account_carries_its_content_health_and_the_effect_in_force(world, users, use_test_db, tmp_path,
                                                                         monkeypatch):
    from ringscope.auth.roles import Actor
    from ringscope.detection.config import load_detection_policy
    from ringscope.health import enforce
    from ringscope.health.policy import load_health_policy

    applied = enforce.apply(world, Actor("bob", "approver"), load_health_policy(),
                            reports_policy=load_detection_policy().reports)
    effects = {r["a"]: r["band"] for r in world.read("MATCH (e:HealthEffect {state: 'active'}) "
                                                     "RETURN e.account_id AS a, e.band AS band")}
    out = tmp_path / "health.zip"
    assert export(out, "--cluster", CLUSTER_ID, "--actor", "alice") == 0
    files = members(out)
    health = json.loads(files["data/health.json"])
    assert [a["account_id"] for a in health["accounts"]] == sorted(MEMBERS)
    assert health["scored"] == health["accounts_in_pack"] == len(MEMBERS) and health["cap"] == 200
    first = health["accounts"][0]
    assert [c["indicator"] for c in first["contributions"]] == [
        "originality", "undeclared_commercial", "offplatform_lure", "verified_reports", "invalid_interaction",
        "follower_imbalance"]
    assert first["index"] == pytest.approx(100 + sum(c["points"] for c in first["contributions"]), abs=1e-2)
    assert first["contributions"][2]["value"] >= 1  # the farm's lure comment
    for a in health["accounts"]:
        held = a["effect_in_force"]
        assert (held or {}).get("band") == effects.get(a["account_id"])
        if held:
            assert held["apply_id"] == applied.apply_id and 0 <= held["index_when_set"] <= 100
    report = files["report.html"].decode()
    assert "Content health" in report and "what took points off" in report
    manifest = json.loads(files[MANIFEST])
    assert {"health_counts", "health_texts", "health_reports", "health_effects"} <= {q["name"] for q in
                                                                                     manifest["queries"]}
    assert verify_pack(out).ok
    # a large pack scores a bounded number of accounts, the highest member scores first, and says so
    import ringscope.evidence.collect as collect

    monkeypatch.setattr(collect, "MAX_HEALTH_ACCOUNTS", 10)
    small = tmp_path / "capped.zip"
    assert export(small, "--cluster", CLUSTER_ID, "--actor", "alice") == 0
    capped = members(small)
    health = json.loads(capped["data/health.json"])
    assert health["scored"] == 10 and health["accounts_in_pack"] == len(MEMBERS) and health["cap"] == 10
    subject = json.loads(capped["data/subject.json"])
    assert any(s.startswith("content health: the index of 10 of the pack's 45 accounts") for s in
               subject["summarised"])
