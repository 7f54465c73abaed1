"""Convert the Cresci 2015 "Fame for sale" baseline dataset to ringscope input.

Source: Cresci, Di Pietro, Petrocchi, Spognardi & Tesconi, "Fame for sale:
efficient detection of fake Twitter followers", Decision Support Systems 80,
2015, in the re-sample kept at ``/work/shared/data/external/cresci2015``
(see that folder's README). **Research use only**: use it for tests and
benchmarks, cite the paper with any result, never ship it in the product.

Input files in ``src_dir``:

* ``bas_users.csv``: 3,900 Twitter accounts x 34 profile columns. The
  ``dataset`` column names the account's origin: ``E13`` (#elezioni2013
  verified humans) and ``TFP`` (The Fake Project volunteers) are real people;
  ``FSF`` (fastfollowerz), ``INT`` (intertwitter) and ``TWT`` (twittertechnology)
  are fake followers bought from three vendors. Booleans are ``1.0`` or empty
  (the Twitter API dump stored false as NULL), so empty means false.
* ``FAK_user_ids.csv`` (optional): ``id,dataset`` for the 1,950 fake accounts
  of the baseline set, with the vendor code in lower case (``fsf``, ``int``,
  ``twt``): the "FAK" half of the balanced BAS dataset (1,950 humans + 1,950
  fakes). It carries no new information; the converter uses it to cross-check
  the fake labels derived from ``dataset`` and reports disagreements.

Output files in ``out_dir`` (input format version 1):

* ``accounts.csv``: ``account_id`` (the Twitter id), ``nickname`` (the
  ``screen_name`` handle, which is what account-creation scripts generate;
  ``name`` when the handle is empty), ``registered_at`` (``created_at`` as ISO
  8601 with offset), ``followers`` (``followers_count``), ``following``
  (``friends_count``), ``default_profile`` (true/false), ``bio``
  (``description``, empty when absent). The ``dataset`` column is NOT written
  there, so detectors reading ``accounts.csv`` cannot see the labels.
* ``labels.csv``: ``account_id``, ``is_fake`` (true for FSF/INT/TWT, false
  for E13/TFP), ``farm_id`` (the vendor code for fakes, empty for humans),
  ``role`` (the dataset code, also for humans). ``role`` is an extra column
  beside the format's ``labels`` columns.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

FAKE_CODES = ("FSF", "INT", "TWT")
HUMAN_CODES = ("E13", "TFP")
CREATED_AT_FORMAT = "%a %b %d %H:%M:%S %z %Y"

ACCOUNT_COLUMNS = [
    "account_id", "nickname", "registered_at", "followers", "following",
    "default_profile", "bio",
]
LABEL_COLUMNS = ["account_id", "is_fake", "farm_id", "role"]


def _flag(values: pd.Series) -> pd.Series:
    """Twitter-dump booleans (1.0 / empty, or true/false text) as "true"/"false". O(n)."""
    text = values.astype("string").str.strip().str.lower()
    true = text.isin(["1", "1.0", "true", "t", "yes"])
    return true.map({True: "true", False: "false"}).astype(str)


def _text(values: pd.Series) -> pd.Series:
    """Strings with missing values as empty text. O(n)."""
    return values.astype("string").fillna("").astype(str)


def convert_cresci(src_dir: Path, out_dir: Path) -> dict[str, int]:
    """Write ``accounts.csv`` and ``labels.csv`` from the Cresci 2015 baseline set.

    Reads ``src_dir/bas_users.csv`` (and ``FAK_user_ids.csv`` if present, to
    cross-check the fake labels), writes into ``out_dir`` (created if
    needed). Rows with an unparsable ``created_at`` or unknown ``dataset``
    code are skipped and counted. Returns counts: ``accounts``, ``labels``,
    ``fake``, ``real``, ``skipped``, ``fak_ids`` (ids in FAK_user_ids.csv)
    and ``fak_mismatches`` (ids whose fake label or vendor disagrees with it).
    O(n).
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    raw = pd.read_csv(src_dir / "bas_users.csv", dtype=str, keep_default_na=False,
                      na_values=[""])
    created = pd.to_datetime(raw["created_at"], format=CREATED_AT_FORMAT, errors="coerce",
                             utc=True)
    code = raw["dataset"].astype("string").str.strip().str.upper()
    known = code.isin(FAKE_CODES + HUMAN_CODES)
    ids = raw["id"].astype("string").str.strip()
    keep = created.notna() & known & ids.notna() & (ids.str.len() > 0)
    skipped = int((~keep).sum())
    raw, created, code, ids = raw[keep], created[keep], code[keep], ids[keep]
    dup = ids.duplicated(keep="first")
    skipped += int(dup.sum())
    raw, created, code, ids = raw[~dup], created[~dup], code[~dup], ids[~dup]

    handle = _text(raw["screen_name"]).str.strip()
    name = _text(raw["name"]).str.strip()
    accounts = pd.DataFrame({
        "account_id": ids.astype(str),
        "nickname": handle.where(handle.str.len() > 0, name),
        "registered_at": created.map(lambda ts: ts.isoformat()),
        "followers": pd.to_numeric(raw["followers_count"], errors="coerce").fillna(0).astype(int),
        "following": pd.to_numeric(raw["friends_count"], errors="coerce").fillna(0).astype(int),
        "default_profile": _flag(raw["default_profile"]),
        "bio": _text(raw["description"]) if "description" in raw else "",
    })
    is_fake = code.isin(FAKE_CODES)
    labels = pd.DataFrame({
        "account_id": ids.astype(str),
        "is_fake": is_fake.map({True: "true", False: "false"}).astype(str),
        "farm_id": code.where(is_fake, "").astype(str),
        "role": code.astype(str),
    })
    accounts = accounts.sort_values("account_id", key=lambda s: s.str.zfill(20),
                                    ignore_index=True)
    labels = labels.sort_values("account_id", key=lambda s: s.str.zfill(20), ignore_index=True)

    fak_ids = fak_mismatches = 0
    fak_path = src_dir / "FAK_user_ids.csv"
    if fak_path.exists():
        fak = pd.read_csv(fak_path, dtype=str)
        fak_vendor = dict(zip(fak["id"].str.strip(), fak["dataset"].str.strip().str.upper()))
        fak_ids = len(fak_vendor)
        ours = dict(zip(labels["account_id"], labels["farm_id"]))
        fak_mismatches = sum(ours.get(i) != v for i, v in fak_vendor.items())
        fak_mismatches += sum(1 for i, v in ours.items() if v and i not in fak_vendor)

    out_dir.mkdir(parents=True, exist_ok=True)
    accounts[ACCOUNT_COLUMNS].to_csv(out_dir / "accounts.csv", index=False,
                                     quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    labels[LABEL_COLUMNS].to_csv(out_dir / "labels.csv", index=False, lineterminator="\n")
    return {
        "accounts": len(accounts),
        "labels": len(labels),
        "fake": int(is_fake.sum()),
        "real": int((~is_fake).sum()),
        "skipped": skipped,
        "fak_ids": fak_ids,
        "fak_mismatches": int(fak_mismatches),
    }
