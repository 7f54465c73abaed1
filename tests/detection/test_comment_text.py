"""Comment texts prepared for the text detectors."""

import re
import sys
import unicodedata

import numpy as np
import pandas as pd

from ringscope.detection.comment_text import PreparedComments, has_text, normalize_text


def test_normalize_text_drops_every_symbol():
    # normalize_text relies on every Unicode symbol (category S*) also being a non-word character.
    drop = re.compile(r"[\s\W_]")
    assert all(drop.match(chr(c)) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c))[0] == "S")
    assert normalize_text("V❤信 abc_12345！！😀👍🏻") == "v信abc12345"


def test_normalize_text_folds_width_and_case():
    assert normalize_text("ＡＢＣ，１２３！😀") == "abc123"


def test_has_text():
    assert not has_text(pd.DataFrame(columns=["comment_id", "text"]))
    assert not has_text(pd.DataFrame({"comment_id": ["c"]}))
    assert not has_text(pd.DataFrame({"comment_id": ["c", "d"], "text": ["", None]}))
    assert has_text(pd.DataFrame({"comment_id": ["c", "d"], "text": ["", "好"]}))


def test_prepared_comments_normalise_each_distinct_text_once():
    frame = pd.DataFrame({"comment_id": [1, 2, 3, 4], "text": ["V 信!", None, "V 信!", "ＡＢ"]})
    prep = PreparedComments(frame)
    assert prep.texts == ["V 信!", "", "ＡＢ"]
    assert list(prep.codes) == [0, 1, 0, 2]
    assert prep.plain == ["v 信!", "", "ab"]
    assert prep.compact == [normalize_text(t) for t in prep.texts] == ["v信", "", "ab"]
    assert prep.column("comment_id").dtype == object and list(prep.column("comment_id")) == ["1", "2", "3", "4"]
    assert isinstance(prep.codes, np.ndarray)


def test_a_frame_is_prepared_once_and_another_frame_afresh():
    from ringscope.detection.comment_text import prepared, release_prepared

    one = pd.DataFrame({"comment_id": ["c1", "c2"], "text": ["好用!!", "好用"]})
    other = one.copy()
    first = prepared(one)
    assert prepared(one) is first
    assert list(first.compact) == ["好用", "好用"]  # the distinct raw texts, normalised
    fresh = prepared(other)  # equal content, another frame: never mistaken for the first
    assert fresh is not first and fresh.frame is other
    release_prepared()
    assert prepared(other) is not fresh
