"""Note bodies and topics (``notes.text``, ``notes.topics``) and the planted copied notes (``note_labels``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from ringscope.ingest.spec import SPECS
from ringscope.ingest.validate import Validator
from ringscope.simulate.bodies import MAX_BODY, MIN_BODY, REWASH_MIN_JACCARD, jaccard, shingles
from tests.simulate.conftest import utc


def near_duplicate_pairs(texts: list[str], threshold: float) -> np.ndarray:
    """Pairs (i < j) of texts whose character 3-shingle Jaccard is at least ``threshold``. O(n^2) memory."""
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for i, text in enumerate(texts):
        for shingle in shingles(text):
            rows.append(i)
            cols.append(vocabulary.setdefault(shingle, len(vocabulary)))
    x = csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(texts), len(vocabulary)))
    size = np.asarray(x.sum(1)).ravel()
    inter = (x @ x.T).toarray()
    similar = inter / (size[:, None] + size[None, :] - inter) >= threshold
    return np.argwhere(np.triu(similar, 1))


def test_every_note_has_a_body_of_40_to_300_characters_and_hashtags_mostly(tables):
    notes = tables["notes"]
    lengths = notes.text.str.len()
    assert (lengths >= MIN_BODY).all() and (lengths <= MAX_BODY).all()
    assert notes.text.nunique() > 0.8 * len(notes)
    with_topics = notes[notes.topics != ""]
    assert 0.75 * len(notes) < len(with_topics) < len(notes)
    assert with_topics.topics.str.split(";").map(lambda tags: len(tags) == len(set(tags))).all()


def test_honest_bodies_are_not_near_duplicates_of_one_another(tables):
    notes, labels = tables["notes"], tables["labels"].set_index("account_id")
    planted = set(tables["note_labels"].note_id)
    honest = notes[notes.account_id.map(labels.is_fake).eq("false") & ~notes.note_id.isin(planted)]
    pairs = near_duplicate_pairs(honest.text.tolist(), 0.3)
    in_a_pair = np.unique(pairs)
    # Combinatorial, not templated: hardly one honest note in a hundred has a near-duplicate (seed 11: none).
    assert in_a_pair.size <= 0.01 * len(honest), honest.text.iloc[in_a_pair[:4]].tolist()


def test_copied_notes_copy_a_popular_honest_note_posted_earlier(tables):
    notes = tables["notes"].set_index("note_id")
    labels = tables["labels"].set_index("account_id")
    truth = tables["note_labels"]
    assert set(truth.kind) == {"verbatim", "rewashed", "skeleton"}
    copies = truth[truth.kind != "skeleton"]
    # A creator with an assistant (simulate/farmed.py, an honest look-alike) reposts its assistant's drafts.
    repost = (labels.loc[notes.loc[copies.note_id].account_id].role == "declared_with_assistant").to_numpy()
    drafts = notes.loc[copies.copied_from[repost]]
    assert repost.any() and (labels.loc[drafts.account_id].role == "creator_assistant").all()
    copies = copies[~repost]
    copy, original = notes.loc[copies.note_id], notes.loc[copies.copied_from]
    assert (utc(copy.posted_at) > utc(original.posted_at)).all()
    assert set(labels.loc[copy.account_id].role) <= {"aged_farm", "engagement_farm", "farmed_declared"}
    assert (labels.loc[original.account_id].is_fake == "false").all()
    verbatim = (copies.kind == "verbatim").to_numpy()
    assert (copy.text.to_numpy()[verbatim] == original.text.to_numpy()[verbatim]).all()
    washed = [(a, b) for a, b in zip(copy.text.to_numpy()[~verbatim], original.text.to_numpy()[~verbatim])]
    assert washed and all(a != b and jaccard(a, b) >= REWASH_MIN_JACCARD for a, b in washed)
    # Popular: the originals drew more engagement than the platform's notes at large.
    comments = tables["comments"].note_id.value_counts()
    assert comments.reindex(copies.copied_from).fillna(0).mean() > 1.5 * comments.reindex(notes.index).fillna(0).mean()


def test_an_agencys_skeleton_notes_are_near_duplicates_of_its_first(tables):
    notes = tables["notes"].set_index("note_id")
    skeleton = tables["note_labels"].query("kind == 'skeleton'")
    followers = skeleton[skeleton.copied_from != ""]
    assert len(followers) and (skeleton.copied_from == "").sum() >= 1
    assert (notes.loc[followers.copied_from].brand_id != "").all()
    assert all(jaccard(notes.text[a], notes.text[b]) >= 0.3 for a, b in zip(followers.note_id, followers.copied_from))
    assert set(notes.loc[skeleton.note_id].declared_commercial) == {"false"}


def test_engagement_farms_copies_are_extra_notes_numbered_after_the_others(tables):
    notes = tables["notes"]
    # The notes of the trending list's planted events (simulate/trending.py) come after these.
    planted = set(tables["trending_labels"].topic)
    notes = notes[~notes.topics.str.split(";").map(lambda tags: bool(set(tags) & planted))].reset_index(drop=True)
    labels = tables["labels"].set_index("account_id")
    farm = notes.account_id.map(labels.farm_type).eq("engagement_farm").to_numpy()
    assert farm.any()
    first = int(np.argmax(farm))
    # all at the end of the file (then the notes simulate/farmed.py plants, by farmed accounts and look-alikes) ...
    roles = notes.account_id.map(labels.role).to_numpy()
    planted = np.isin(roles, ["farmed_declared", "declared_viral", "declared_with_assistant", "creator_assistant"])
    last = len(farm) - int(np.argmax(~planted[::-1])) if (~planted).any() else len(farm)
    assert farm[first:last].all() and (planted[last:]).all()
    assert notes.note_id.is_monotonic_increasing  # ... with the next ids
    assert set(notes.note_id[farm]) <= set(tables["note_labels"].note_id)


def test_the_notes_file_validates_as_the_input_format(tables):
    notes = tables["notes"]
    validator = Validator(SPECS["notes"], list(notes.columns))
    assert validator.unknown == []
    rows = [validator.convert(row) for row in notes.head(500).to_dict("records")]
    assert all(row["text"] for row in rows)
    assert all(row["topics"] is None or all(t.startswith("#") for t in row["topics"]) for row in rows)


def test_note_labels_is_evaluation_only_and_never_loaded(tables):
    from ringscope.ingest.spec import EVALUATION_ONLY, LOAD_ORDER

    assert "note_labels" in EVALUATION_ONLY and "note_labels" not in LOAD_ORDER
    assert pd.Series(tables["note_labels"].note_id).is_unique


def test_bodies_rendered_in_pieces_are_the_bodies_rendered_at_once(tmp_path, monkeypatch):
    from ringscope.simulate import bodies
    from ringscope.simulate.platform import simulate

    simulate(tmp_path / "whole", 1200, 3, "csv")
    monkeypatch.setattr(bodies, "RENDER_ROWS", 7)
    simulate(tmp_path / "pieces", 1200, 3, "csv")
    assert (tmp_path / "whole" / "notes.csv").read_bytes() == (tmp_path / "pieces" / "notes.csv").read_bytes()
