"""Convert the YelpChi review metadata into ringscope's input format.

Source: Rayana & Akoglu, "Collective Opinion Spam Detection: Bridging Review
Networks and Metadata", KDD 2015 (YelpChi), as republished in the
safe-graph/UGFraud repository.  Data from Yelp, **research and evaluation use
only**: do not copy it into the product; cite the paper wherever a result uses it.

Input (``reviews.txt.gz``): space-separated, no header,
``user_id prod_id rating label date`` with ``label`` -1 = filtered by Yelp's
spam filter, 1 = recommended, and ``date`` at day resolution.

Mapping (documented choices, since Yelp is not a note/comment platform):

* every user becomes an account ``yelp_u<user_id>``; YelpChi gives no
  registration date, so ``registered_at`` is **the date of the user's first
  review** (a lower bound on the real one is unknown; never use it as a
  registration-burst signal);
* every hotel/restaurant becomes a placeholder business account
  ``yelp_b<prod_id>`` (``is_professional`` true, ``registered_at`` = its first
  review date) so that notes have an author;
* a product x ISO week becomes a note ``yelp_p<prod_id>_<isoyear>W<week>``
  posted by the business at Monday 00:00 UTC of that week (week notes make the
  co-review graph sparse enough to look like a note/comment graph);
* every review becomes a comment ``yelp_r<line number>`` at 00:00 UTC of its
  date (day resolution: all reviews of one day share a timestamp), with empty
  text (YelpChi has no review texts here);
* ``labels.csv``: ``is_fake`` = the user has at least one filtered review;
  ``role`` = ``yelp_filter`` for those and ``yelp_recommended`` otherwise.
  This is Yelp's filter, **not verified truth**; most filtered users are
  one-review accounts.  Business placeholders get no label row.

Time O(R log R) for R reviews; the whole file converts in about a second.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

ACCOUNT_PREFIX = "yelp_u"
BUSINESS_PREFIX = "yelp_b"
NOTE_PREFIX = "yelp_p"
COMMENT_PREFIX = "yelp_r"


def read_yelpchi(src: Path) -> pd.DataFrame:
    """The raw reviews as a frame with columns user, prod, rating, label, date (UTC, day), line.

    ``line`` is the 0-based line number, the stable review id.  O(R).
    """
    opener = gzip.open if str(src).endswith(".gz") else open
    with opener(src, "rt", encoding="utf-8") as fh:
        df = pd.read_csv(
            fh,
            sep=r"\s+",
            header=None,
            names=["user", "prod", "rating", "label", "date"],
            dtype={"user": str, "prod": str, "rating": float, "label": int, "date": str},
        )
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d", utc=True).dt.as_unit("ns")
    df["line"] = range(len(df))
    return df


def yelpchi_frames(src: Path) -> dict[str, pd.DataFrame]:
    """The converted tables (accounts, notes, comments, labels) as frames, per the mapping above.

    Timestamps are datetime64[ns, UTC].  O(R log R).
    """
    df = read_yelpchi(src)
    iso = df["date"].dt.isocalendar()
    week_start = df["date"] - pd.to_timedelta(df["date"].dt.day_of_week, unit="D")
    df["note_id"] = (
        NOTE_PREFIX
        + df["prod"]
        + "_"
        + iso["year"].astype(str)
        + "W"
        + iso["week"].astype(str).str.zfill(2)
    )
    df["account_id"] = ACCOUNT_PREFIX + df["user"]
    df["business_id"] = BUSINESS_PREFIX + df["prod"]

    users = (
        df.groupby("account_id", sort=True)
        .agg(registered_at=("date", "min"), filtered=("label", lambda s: bool((s == -1).any())))
        .reset_index()
    )
    biz = df.groupby("business_id", sort=True).agg(registered_at=("date", "min")).reset_index()
    accounts = pd.concat(
        [
            users[["account_id", "registered_at"]].assign(is_professional=False),
            biz.rename(columns={"business_id": "account_id"}).assign(is_professional=True),
        ],
        ignore_index=True,
    ).assign(status="active")

    notes = (
        pd.DataFrame({"note_id": df["note_id"], "account_id": df["business_id"], "posted_at": week_start})
        .drop_duplicates("note_id")
        .sort_values("note_id")
        .reset_index(drop=True)
    )
    comments = pd.DataFrame(
        {
            "comment_id": COMMENT_PREFIX + df["line"].astype(str),
            "account_id": df["account_id"],
            "note_id": df["note_id"],
            "created_at": df["date"],
            "text": "",
        }
    )
    labels = pd.DataFrame(
        {
            "account_id": users["account_id"],
            "is_fake": users["filtered"],
            "role": users["filtered"].map({True: "yelp_filter", False: "yelp_recommended"}),
        }
    )
    return {"accounts": accounts, "notes": notes, "comments": comments, "labels": labels}


def convert_yelpchi(src: Path, out_dir: Path) -> dict[str, int]:
    """Write accounts.csv, notes.csv, comments.csv, labels.csv into ``out_dir``.

    Returns the number of rows written per file stem.  Timestamps are written
    as ISO 8601 with a ``Z`` offset, booleans as ``true``/``false``.  O(R log R).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, frame in yelpchi_frames(Path(src)).items():
        frame = frame.copy()
        for col in frame.columns:
            if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif frame[col].dtype == bool:
                frame[col] = frame[col].map({True: "true", False: "false"})
        frame.to_csv(out_dir / f"{name}.csv", index=False, encoding="utf-8")
        counts[name] = len(frame)
    return counts
