"""The fonts the report uses, found on this machine (I/O).

Chinese text (comments, nicknames, brand names) needs a CJK font. ringscope
looks for Noto Sans CJK (Debian/Ubuntu package ``fonts-noto-cjk``), then any
font ``fc-list :lang=zh`` names; ``RINGSCOPE_CJK_FONT`` (a .ttf/.otf/.ttc
path) overrides both. DejaVu Sans (``fonts-dejavu-core``) covers Latin text,
symbols and many emoji as a fallback. Without a CJK font the PDF uses the
core Helvetica font, shows ``?`` for characters it cannot draw and says so on
its first page; the HTML report is unaffected (the browser picks fonts).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NOTO_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
FALLBACK_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
PREFERRED_FACE = "SC"  # Simplified Chinese glyph forms in a collection


@dataclass(frozen=True)
class Fonts:
    cjk_path: str | None  # a .ttf/.otf/.ttc with Chinese glyphs
    cjk_index: int  # the face within a .ttc collection
    cjk_name: str | None
    fallback_path: str | None  # symbols and emoji the CJK font lacks

    def describe(self) -> str:
        if self.cjk_path:
            return f"{self.cjk_name or Path(self.cjk_path).name}"
        return "none (no CJK font found; install fonts-noto-cjk)"


def _collection_index(path: str) -> tuple[int, str | None]:
    """The face of a .ttc to use (Simplified Chinese if there is one) and its family name."""
    try:
        from fontTools.ttLib import TTCollection, TTFont
    except ImportError:
        return 0, None
    try:
        if path.lower().endswith(".ttc"):
            faces = TTCollection(path, lazy=True).fonts
            names = [str(f["name"].getDebugName(1) or "") for f in faces]
            for i, name in enumerate(names):
                if name.endswith(f" {PREFERRED_FACE}") and "Mono" not in name:
                    return i, name
            return 0, names[0] if names else None
        return 0, str(TTFont(path, lazy=True)["name"].getDebugName(1) or "") or None
    except Exception:  # an unreadable font file: still try it, unnamed
        return 0, None


def _fc_list_zh() -> list[str]:
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    return [f for f in files if f.lower().endswith((".ttf", ".otf", ".ttc"))]


@lru_cache(maxsize=1)
def find_fonts() -> Fonts:
    fallback = next((p for p in FALLBACK_CANDIDATES if os.path.exists(p)), None)
    override = os.environ.get("RINGSCOPE_CJK_FONT")
    if override == "none":  # for tests of the degraded path
        return Fonts(None, 0, None, fallback)
    candidates = ([override] if override else []) + list(NOTO_CANDIDATES) + _fc_list_zh()
    for path in candidates:
        if path and os.path.exists(path):
            index, name = _collection_index(path)
            return Fonts(path, index, name, fallback)
    return Fonts(None, 0, None, fallback)
