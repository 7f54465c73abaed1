"""The planted farms show the signals they are meant to show, and the organic traps exist."""

from __future__ import annotations

import math

import pandas as pd

from tests.simulate.conftest import ACCOUNTS, utc

FARM_TYPES = {"bulk_farm", "aged_farm", "comment_ring", "evasion", "engagement_farm"}


def farms(labelled: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
    fakes = labelled[labelled.farm_type == kind]
    groups = [group for _, group in fakes.groupby("farm_id")]
    assert groups, f"no {kind} farm"
    return groups


def test_labels_cover_every_farm_type(labelled):
    fake = labelled.is_fake == "true"
    assert 0.05 <= fake.mean() <= 0.10
    assert set(labelled.farm_type[fake]) == FARM_TYPES | {"heat_campaign"}  # bought accounts of heat operations
    assert (labelled.farm_id[fake] != "").all()
    # a program's accounts (simulate/automated.py) keep their bulk farm's type, with the role ai_operated
    programs = labelled.role == "ai_operated"
    # so do a heat operation's bulk-farm members (simulate/trending.py), with the role heat_campaign
    programs |= (labelled.role == "heat_campaign") & (labelled.farm_type == "bulk_farm")
    raised = labelled.role == "farmed_declared"  # simulate/farmed.py: in their farm, with a role of their own
    assert raised.any() and set(labelled.farm_type[raised]) <= {"bulk_farm", "aged_farm"}
    assert (labelled.farm_type[fake & ~programs & ~raised] == labelled.role[fake & ~programs & ~raised]).all()
    assert (labelled.farm_type[programs] == "bulk_farm").all()
    assert (labelled.farm_id[~fake] == "").all() and (labelled.farm_type[~fake] == "").all()
    assert {"organic", "organic_shared_nat", "organic_family_device", "engagement_buyer",
            "declared_creator"} <= set(labelled.role[~fake])
    sizes = labelled[fake].groupby("farm_id").size()
    assert sizes.min() >= 5 and sizes.max() <= 300
    assert labelled[fake].groupby("farm_id").farm_type.nunique().max() == 1


def test_ids_and_names_do_not_reveal_fakes(tables, labelled):
    for stem, frame in tables.items():
        for column in frame.columns:
            if column.endswith("_id") and column not in ("farm_id",):
                assert not frame[column].str.contains("farm", case=False).any(), (stem, column)
    assert not labelled.nickname.str.contains("farm|fake|bot", case=False).any()
    # fake accounts are spread over the whole id range, and rows are in id order
    number = labelled.account_id.str[1:].astype(int)
    fake = labelled.is_fake == "true"
    first_half = (number[fake] <= len(labelled) / 2).mean()
    assert 0.35 <= first_half <= 0.65
    assert tables["accounts"].account_id.is_monotonic_increasing


def test_bulk_farms_register_in_a_burst_on_shared_devices(labelled, tables):
    links = tables["account_devices"].merge(tables["devices"], on="device_id")
    for farm in farms(labelled, "bulk_farm"):
        assert farm.reg.max() - farm.reg.min() <= pd.Timedelta(hours=7)
        assert farm.registration_ip.nunique() <= 3
        assert farm.phone_segment.nunique() <= 3
        assert (farm.default_profile == "true").mean() > 0.6
        used = links[links.account_id.isin(farm.account_id)]
        assert used.device_id.nunique() < len(farm) / 2


def test_aged_farms_are_spread_out_but_still_linked(labelled, tables):
    links = tables["account_devices"]
    notes = tables["notes"]
    for farm in farms(labelled, "aged_farm"):
        assert farm.reg.max() - farm.reg.min() > pd.Timedelta(days=20)
        assert links[links.account_id.isin(farm.account_id)].device_id.nunique() <= math.ceil(len(farm) / 5)
        nets = farm.registration_ip.str.rsplit(".", n=1).str[0]
        assert nets.nunique() <= 2
    # (an aged account raised into the declared channel, simulate/farmed.py, posts declared notes later)
    aged = labelled.account_id[(labelled.farm_type == "aged_farm") & (labelled.role == "aged_farm")]
    seeding = notes[notes.account_id.isin(aged) & (notes.brand_id != "")]
    assert len(seeding) > 0 and (seeding.declared_commercial == "false").all()


def test_comment_rings_comment_in_lockstep_with_lures_and_qa(labelled, tables):
    c = tables["comments"].merge(labelled[["account_id", "farm_id", "farm_type"]], on="account_id")
    c["t"] = pd.to_datetime(c.created_at)
    ring = c[c.farm_type == "comment_ring"]
    assert ring.farm_id.nunique() == len(farms(labelled, "comment_ring"))
    bursts = 0
    for (_, _), group in ring.groupby(["farm_id", "note_id"]):
        if len(group) >= 3 and group.t.max() - group.t.min() <= pd.Timedelta(minutes=35):
            bursts += 1
    assert bursts >= 3
    assert ring.text.str.contains("私|V信|vx|Q |主页").any()
    assert ring.text.str.contains("好用|值得|推荐|回购").any()
    by_id = c.set_index("comment_id")
    answers = ring[(ring.reply_to != "") & ring.reply_to.isin(by_id.index)]
    asked = by_id.loc[answers.reply_to]
    same_ring = (asked.farm_id.values == answers.farm_id.values) & (asked.account_id.values != answers.account_id.values)
    assert same_ring.sum() >= 1
    assert answers.text.str.contains("私你|已私|主页").any()


def test_evasion_accounts_register_after_the_ban_on_banned_devices(labelled, tables):
    s = tables["sanctions"]
    links = tables["account_devices"]
    for farm in farms(labelled, "evasion"):
        banned = farm[farm.status == "banned"]
        new = farm[farm.status != "banned"]
        assert len(banned) >= 3 and len(new) >= 2
        bans = s[(s.target_type == "account") & s.target_id.isin(banned.account_id)]
        assert set(bans.target_id) == set(banned.account_id) and (bans.action == "permanent_ban").all()
        ban_time = pd.to_datetime(bans.issued_at).min()
        assert (new.reg > ban_time).all()
        banned_devices = set(links.device_id[links.account_id.isin(banned.account_id)])
        device_bans = s[(s.target_type == "device")]
        assert banned_devices <= set(device_bans.target_id)
        reused = links[links.account_id.isin(new.account_id) & links.device_id.isin(banned_devices)]
        assert len(reused) >= 1
        assert (pd.to_datetime(reused.first_seen) > ban_time).all()
        # banned accounts went quiet at the ban
        c = tables["comments"]
        assert (utc(c.created_at[c.account_id.isin(banned.account_id)]) < utc(pd.Series([ban_time.isoformat()]))[0]).all()


def test_engagement_buyers_receive_bursts_from_one_farm(labelled, tables):
    f = tables["follows"].merge(labelled[["account_id", "farm_type"]], on="account_id")
    f["t"] = pd.to_datetime(f.created_at)
    buyers = labelled.account_id[labelled.role == "engagement_buyer"]
    assert len(buyers) >= 1
    bursts = 0
    for buyer in buyers:
        bought = f[(f.target_account_id == buyer) & (f.farm_type == "engagement_farm")].sort_values("t")
        if len(bought) >= 5 and (bought.t.max() - bought.t.min()) <= pd.Timedelta(hours=6):
            bursts += 1
    assert bursts >= 1


def test_underwater_and_declared_orders(tables, labelled):
    o = tables["orders"]
    inter = tables["intermediaries"].set_index("intermediary_id")
    notes = tables["notes"].set_index("note_id")
    roles = labelled.set_index("account_id").role
    declared = o[o.declared == "true"]
    assert len(declared) > 0
    assert (inter.registered.loc[declared.intermediary_id] == "true").all()
    assert (notes.declared_commercial.loc[declared.note_id] == "true").all()
    # honest declared creators, their look-alikes of farmed accounts, and the farmed accounts (simulate/farmed.py)
    assert set(roles.loc[declared.account_id]) <= {"declared_creator", "declared_viral", "declared_with_assistant",
                                                   "farmed_declared"}
    underwater = o[o.declared == "false"]
    assert len(underwater) > 0
    with_note = underwater[underwater.note_id != ""]
    assert (notes.declared_commercial.loc[with_note.note_id] == "false").all()
    with_account = underwater[underwater.account_id != ""]
    assert set(roles.loc[with_account.account_id]) <= FARM_TYPES | {"farmed_declared"}  # aged, then raised
    assert (inter.registered.loc[underwater.intermediary_id[underwater.intermediary_id != ""]] == "false").any()
    ia = tables["intermediary_accounts"]
    assert set(roles.loc[ia.account_id]) & FARM_TYPES


def test_innocent_sharing_exists(labelled, tables):
    ips = tables["account_ips"].merge(labelled[["account_id", "role", "is_fake"]], on="account_id")
    nat = ips[ips.role == "organic_shared_nat"].groupby("ip").account_id.nunique()
    crowd = min(20, ACCOUNTS // 100)
    assert nat.max() >= crowd
    shared = ips.groupby("ip").filter(lambda g: g.account_id.nunique() >= crowd)
    assert (shared.is_fake == "false").mean() > 0.5  # big shared addresses are mostly innocent
    devices = tables["account_devices"].merge(labelled[["account_id", "role"]], on="account_id")
    family = devices[devices.role == "organic_family_device"].groupby("device_id").account_id.nunique()
    assert 2 <= family.max() <= 4
    organic = labelled[labelled.is_fake == "false"]
    assert (organic.default_profile == "true").mean() < 0.2
    assert organic.nickname.str.startswith("小红薯").any()  # some real users keep the default nickname
    assert organic.nickname.nunique() > 0.9 * len(organic)
    assert organic.phone_segment.str[:3].isin(["138", "139", "186", "135", "150", "188"]).mean() > 0.1
    fake = labelled[labelled.is_fake == "true"]
    assert fake.phone_segment.str[:3].isin(["170", "171", "165", "167"]).mean() > 0.4


def test_organic_activity_is_heavy_tailed_and_evening_heavy(labelled, tables):
    c = tables["comments"].merge(labelled[["account_id", "role"]], on="account_id")
    organic = c[c.role == "organic"]
    per_account = organic.account_id.value_counts()
    top = per_account.head(max(1, len(per_account) // 100)).sum()
    assert top > 0.05 * len(organic)
    assert per_account.median() <= 5
    hours = pd.to_datetime(organic.created_at).dt.hour
    assert (hours.isin([20, 21, 22])).sum() > 4 * (hours.isin([3, 4, 5])).sum()
    texts = organic.text
    assert texts.nunique() > 0.3 * len(texts)
