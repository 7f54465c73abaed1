"""Ban evasion: new accounts on banned accounts' devices."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.ban_evasion import detect_ban_evasion, evasion_evidence


def ts(text):
    return pd.Timestamp(text, tz="UTC")


def frames():
    accounts = pd.DataFrame({
        "account_id": ["bad", "after", "before", "mover", "clean", "bystander"],
        "registered_at": [ts("2024-01-01"), ts("2024-03-04"), ts("2023-12-01"),
                          ts("2023-06-01"), ts("2024-01-01"), ts("2024-03-04")],
        "status": ["banned", "active", "active", "limited", "active", "active"],
    })
    account_devices = pd.DataFrame({
        "account_id": ["bad", "after", "before", "mover", "clean", "bystander"],
        "device_id": ["d1", "d1", "d1", "d1", "d9", "d7"],
        "first_seen": [ts("2024-01-02"), ts("2024-03-04"), ts("2023-12-02"), ts("2024-04-01"),
                       ts("2024-01-01"), ts("2024-03-04")],
        "last_seen": [pd.NaT] * 6,
    })
    sanctions = pd.DataFrame({
        "sanction_id": ["s1"], "target_type": ["account"], "target_id": ["bad"],
        "action": ["ban"], "reason": ["spam"], "issued_at": [ts("2024-03-01")],
        "expires_at": [pd.NaT],
    })
    return account_devices, accounts, sanctions


def test_post_ban_registration_scores_higher_than_pre_ban():
    (f,) = detect_ban_evasion(*frames())
    assert f.members == ("after", "before", "mover")
    assert f.member_score("after") > f.member_score("mover") > f.member_score("before")
    assert f.member_score("after") >= 0.8 and f.member_score("before") < 0.5
    assert f.score == f.member_score("after")


def test_evidence_cites_device_banned_account_sanction_and_times():
    (f,) = detect_ban_evasion(*frames())
    (reason,) = f.member_reasons["after"]
    assert reason.code == "ban_evasion"
    kinds = {e.kind: e.ids for e in reason.evidence}
    assert kinds["device"] == ("d1",)
    assert kinds["account"] == ("bad",)
    assert kinds["sanction"] == ("s1",)
    assert kinds["time_window"] == (ts("2024-03-01").isoformat(), ts("2024-03-04").isoformat())
    assert "3.0 days after" in reason.text
    assert f.member_reasons["before"][0].code == "ban_evasion_review"


def test_banned_device_and_status_only_ban():
    account_devices, accounts, _ = frames()
    sanctions = pd.DataFrame({
        "sanction_id": ["s9"], "target_type": ["device"], "target_id": ["d7"],
        "action": ["Device_Ban"], "reason": [""], "issued_at": [ts("2024-02-01")],
        "expires_at": [pd.NaT],
    })
    ev = evasion_evidence(account_devices, accounts, sanctions)
    by_account = dict(zip(ev["account_id"], ev["kind"]))
    assert by_account["bystander"] == "post_ban_registration"  # on the banned device d7
    assert by_account["after"] == "status_only_ban"  # 'bad' banned by status only
    assert "clean" not in by_account and "bad" not in by_account


def test_a_new_account_alone_on_a_banned_device_flags_like_one_on_a_banned_accounts_device():
    account_devices, accounts, _ = frames()
    sanctions = pd.DataFrame({
        "sanction_id": ["s9"], "target_type": ["device"], "target_id": ["d7"],
        "action": ["Device_Ban"], "reason": [""], "issued_at": [ts("2024-02-01")],
        "expires_at": [pd.NaT],
    })
    (f,) = [f for f in detect_ban_evasion(account_devices, accounts, sanctions) if "bystander" in f.members]
    assert f.members == ("bystander",)  # registered on d7 a month after the device was banned, alone on it
    after_account_ban = detect_ban_evasion(*frames())[0].member_score("after")
    assert f.member_score("bystander") >= 0.8 * after_account_ban
    assert 0.9 * f.member_score("bystander") >= 0.5  # the shipped weight 0.9 flags it alone


def test_shared_emulator_image_is_ignored():
    account_devices, accounts, sanctions = frames()
    crowd = pd.DataFrame({"account_id": [f"x{i}" for i in range(300)] + ["bad"],
                          "device_id": ["emu"] * 301})
    crowd_accounts = pd.DataFrame({"account_id": [f"x{i}" for i in range(300)],
                                   "registered_at": [ts("2024-05-01")] * 300})
    findings = detect_ban_evasion(pd.concat([account_devices, crowd]),
                                  pd.concat([accounts, crowd_accounts]), sanctions)
    assert all(not m.startswith("x") for f in findings for m in f.members)


def test_expired_ban_is_not_strong_and_output_is_deterministic():
    account_devices, accounts, sanctions = frames()
    sanctions = sanctions.assign(expires_at=[ts("2024-03-02")])
    ev = evasion_evidence(account_devices, accounts, sanctions)
    assert dict(zip(ev["account_id"], ev["kind"]))["after"] != "post_ban_registration"
    a = detect_ban_evasion(*frames())
    b = detect_ban_evasion(*(x.sample(frac=1.0, random_state=3) for x in frames()))
    assert a == b


def test_nothing_banned_nothing_found():
    account_devices, accounts, _ = frames()
    accounts = accounts.assign(status="active")
    assert detect_ban_evasion(account_devices, accounts, None) == []
