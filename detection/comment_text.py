"""Comment texts prepared for the text detectors (comment templates, off-platform lures, Q&A acts).

Farm comments repeat, so each distinct raw text is normalised once
(:class:`PreparedComments`) however many times it was posted. Normalisation:
NFKC, lower case, then emoji, punctuation, whitespace and underscores dropped
(CJK characters, letters and digits kept), which defeats "V 信", "v❤x",
"好用!!😍" versus "好用".
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """NFKC, lower case, emoji/punctuation/whitespace removed (CJK, letters, digits kept). O(len)."""
    # Every symbol (Unicode category S*: emoji, currency, math, modifiers) is
    # also a non-word character, so ``_DROP`` alone removes them
    # (tests/detection/test_comment_text.py checks this over all code points).
    return _DROP.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def has_text(comments: pd.DataFrame) -> bool:
    """Whether any comment has a non-empty ``text``. O(N)."""
    return not comments.empty and "text" in comments and bool(comments["text"].fillna("").astype(str).str.len().any())


def object_array(column: pd.Series) -> np.ndarray:
    """A column as a numpy object array. O(n)."""
    return column.to_numpy(dtype=object)


def isin_objects(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``values[i] in pool`` for object arrays, by hashing. O(n + m)."""
    return pd.Index(values, dtype=object).isin(np.asarray(pool, dtype=object))


class PreparedComments:
    """A comments frame prepared once for a text detector.

    Columns become numpy object arrays (iterating pandas' Arrow-backed strings,
    or ``isin`` against a large pool of them, is slow) and each distinct raw
    text is normalised once: farm comments repeat, so U distinct texts are
    far fewer than N comments.  Everything is computed on first use. O(N + U L).
    """

    def __init__(self, comments: pd.DataFrame) -> None:
        self.frame = comments
        self._columns: dict[str, np.ndarray] = {}
        self._codes: np.ndarray | None = None

    def column(self, name: str) -> np.ndarray:
        """``frame[name].astype(str)`` as an object array (cached)."""
        if name not in self._columns:
            self._columns[name] = self.frame[name].astype(str).to_numpy(dtype=object)
        return self._columns[name]

    def _distinct(self) -> None:
        codes, uniques = pd.factorize(self.frame["text"].fillna("").astype(str), sort=False)
        self._codes = np.asarray(codes, dtype=np.int64)
        self._texts = [str(t) for t in np.asarray(uniques, dtype=object).tolist()]
        self._plain = [unicodedata.normalize("NFKC", t).lower() for t in self._texts]
        self._compact = [_DROP.sub("", p) for p in self._plain]     # == normalize_text(text)

    @property
    def codes(self) -> np.ndarray:
        """Each comment's index into the distinct texts."""
        if self._codes is None:
            self._distinct()
        return self._codes

    @property
    def texts(self) -> list[str]:
        """Distinct raw texts (missing -> "")."""
        self.codes
        return self._texts

    @property
    def plain(self) -> list[str]:
        """Distinct texts NFKC-normalised and lower-cased."""
        self.codes
        return self._plain

    @property
    def compact(self) -> list[str]:
        """Distinct texts normalised by :func:`normalize_text`."""
        self.codes
        return self._compact


# The last preparation made in this process: the three text detectors run one after another in one
# process (``pipeline.Detector.shares``) on the same comments frame, and normalising its distinct texts is
# a quarter of each one's time at a million accounts. It holds its frame, so while it is cached no other
# frame can take that frame's place; ``release_prepared`` lets both go.
_LAST: PreparedComments | None = None


def prepared(comments: pd.DataFrame) -> PreparedComments:
    """:class:`PreparedComments` of ``comments``, the one made before when it is the same frame object.
    The detectors only read a preparation, so sharing it changes nothing they find. O(1) when cached."""
    global _LAST
    if _LAST is None or _LAST.frame is not comments:
        _LAST = PreparedComments(comments)
    return _LAST


def release_prepared() -> None:
    """Drop the cached preparation and its frame: the pipeline calls it when a task's detectors are done."""
    global _LAST
    _LAST = None
