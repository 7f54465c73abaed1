"""The report: one list of blocks rendered twice, as HTML and as PDF, plus the timeline chart (pure).

The same blocks make both documents, so the HTML and the PDF never say
different things. Everything shown comes in already masked; the HTML escapes
every value. Tables longer than a page are cut with a line saying how many
rows were left out and which file holds them all.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Sequence

from ringscope.evidence.fonts import Fonts

# A fixed creation date: the PDF's bytes depend only on its content (the pack's time is in the manifest).
PDF_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = ""  # "", "banner", "alert", "small", "mono"


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""  # e.g. "120 more not shown (full list in data/accounts.csv)"
    widths: tuple[float, ...] = ()  # relative widths for the PDF


@dataclass(frozen=True)
class Image:
    name: str  # file in the pack
    png: bytes
    caption: str


Block = Heading | Paragraph | Table | Image


def capped_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], limit: int, where: str,
                 widths: Sequence[float] = ()) -> Table:
    shown = [tuple("" if v is None else str(v) for v in row) for row in rows[:limit]]
    note = ""
    if len(rows) > limit:
        note = f"{len(rows) - limit:,} more not shown (full list in {where})"
    return Table(tuple(columns), tuple(shown), note, tuple(widths))


# --- HTML ------------------------------------------------------------------------------------------------

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;
     max-width:1100px;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;margin-top:1.6em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em;width:100%}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f0f0f0}.banner{padding:.6em;border:2px solid #555;background:#f7f7f7;font-weight:bold}
.alert{padding:.6em;border:3px solid #b00;background:#fee;color:#b00;font-weight:bold;font-size:1.2em}
.small{font-size:.85em;color:#555}.mono{font-family:monospace;font-size:.85em;white-space:pre-wrap}
.note{font-style:italic;color:#555}img{max-width:100%;border:1px solid #ddd}
"""


def render_html(title: str, blocks: Sequence[Block]) -> bytes:
    e = html.escape
    parts = ["<!DOCTYPE html>", "<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
             f"<title>{e(title)}</title><style>{CSS}</style></head><body>"]
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"<h{block.level}>{e(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            cls = f" class=\"{block.style}\"" if block.style else ""
            parts.append(f"<p{cls}>{e(block.text)}</p>")
        elif isinstance(block, Table):
            parts.append("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in block.columns)
                         + "</tr></thead><tbody>")
            for row in block.rows:
                parts.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>")
            parts.append("</tbody></table>")
            if block.note:
                parts.append(f"<p class=\"note\">{e(block.note)}</p>")
        elif isinstance(block, Image):
            data = base64.b64encode(block.png).decode("ascii")
            parts.append(f"<figure><img alt=\"{e(block.caption)}\" src=\"data:image/png;base64,{data}\">"
                         f"<figcaption class=\"small\">{e(block.caption)} (also {e(block.name)})</figcaption></figure>")
    parts.append("</body></html>")
    return ("\n".join(parts) + "\n").encode("utf-8")


# --- PDF -------------------------------------------------------------------------------------------------

def render_pdf(title: str, blocks: Sequence[Block], fonts: Fonts) -> bytes:
    """fpdf2, A4 landscape; the CJK font when the machine has one (see evidence.fonts)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    logging.getLogger("fpdf").setLevel(logging.ERROR)  # glyphs no font has are dropped, not reported per line
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(PDF_EPOCH)
    pdf.set_title(title)
    pdf.set_creator("ringscope")
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_margins(12, 12, 12)
    family = "helvetica"
    if fonts.cjk_path:
        try:
            pdf.add_font("cjk", "", fonts.cjk_path, collection_font_number=fonts.cjk_index)
            family = "cjk"
            if fonts.fallback_path:
                pdf.add_font("fallback", "", fonts.fallback_path)
                pdf.set_fallback_fonts(["fallback"], exact_match=False)
        except Exception:  # an unusable font file: degrade like a machine without one
            family = "helvetica"
    unicode_ok = family == "cjk"

    def clean(text: str) -> str:
        if unicode_ok:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def write(text: str, size: float, height: float, color: tuple[int, int, int] = (0, 0, 0),
              fill: tuple[int, int, int] | None = None, border: int = 0) -> None:
        pdf.set_font(family, size=size)
        pdf.set_text_color(*color)
        if fill:
            pdf.set_fill_color(*fill)
        pdf.multi_cell(0, height, clean(text), border=border, fill=fill is not None, align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)

    pdf.add_page()
    if not unicode_ok:
        write("Note: no CJK font was found on the machine that built this PDF, so Chinese text is shown as '?'. "
              "The HTML report and the data files hold the original text. (Install fonts-noto-cjk.)",
              8, 4, color=(150, 0, 0))
    for block in blocks:
        if isinstance(block, Heading):
            pdf.ln(2)
            write(block.text, {1: 16, 2: 13, 3: 11}.get(block.level, 11), 7)
        elif isinstance(block, Paragraph):
            if block.style == "alert":
                write(block.text, 13, 8, color=(176, 0, 0), fill=(255, 230, 230), border=1)
            elif block.style == "banner":
                write(block.text, 10, 6, fill=(240, 240, 240), border=1)
            else:
                write(block.text, 8 if block.style in ("small", "mono") else 9.5, 4.6)
            pdf.ln(1)
        elif isinstance(block, Table):
            _pdf_table(pdf, block, family, clean)
        elif isinstance(block, Image):
            available = pdf.h - pdf.b_margin - pdf.get_y()
            if available < 120:
                pdf.add_page()
            side = min(pdf.epw, pdf.h - pdf.b_margin - pdf.get_y() - 10)
            pdf.image(io.BytesIO(block.png), w=side, h=side * _aspect(block.png), keep_aspect_ratio=True)
            write(f"{block.caption} (also {block.name})", 8, 4)
    return bytes(pdf.output())


def _aspect(png: bytes) -> float:
    """height / width of a PNG, from its header."""
    width = int.from_bytes(png[16:20], "big") or 1
    height = int.from_bytes(png[20:24], "big") or 1
    return height / width


def _pdf_table(pdf, table: Table, family: str, clean) -> None:
    from fpdf.fonts import FontFace

    weights = table.widths or tuple(1.0 for _ in table.columns)
    total = sum(weights)
    widths = tuple(w / total * pdf.epw for w in weights)
    pdf.set_font(family, size=7.5)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=3.6, first_row_as_headings=True,
                   headings_style=FontFace(fill_color=(235, 235, 235))) as pdf_table:
        header = pdf_table.row()
        for column in table.columns:
            header.cell(clean(column))
        for row in table.rows:
            cells = pdf_table.row()
            for value in row:
                cells.cell(clean(value if len(value) <= 400 else value[:399] + "…"))
    if table.note:
        pdf.set_font(family, size=7.5)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(0, 4, clean(table.note), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


# --- timeline chart ----------------------------------------------------------------------------------------

@dataclass
class Timeline:
    registrations: Counter = field(default_factory=Counter)  # day (ISO date) -> count
    comments: Counter = field(default_factory=Counter)
    orders: Counter = field(default_factory=Counter)
    sanctions: Counter = field(default_factory=Counter)

    def empty(self) -> bool:
        return not (self.registrations or self.comments or self.orders or self.sanctions)

    def span(self) -> tuple[str, str] | None:
        days = sorted(set(self.registrations) | set(self.comments) | set(self.orders) | set(self.sanctions))
        return (days[0], days[-1]) if days else None


def day_of(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)
    return text[:10] if len(text) >= 10 and text[4] == "-" else None


def timeline_png(timeline: Timeline, title: str) -> bytes:
    """Registrations, comments, orders and sanctions per day (per week beyond a year), one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    series = [("accounts registered", timeline.registrations, "#d62728"),
              ("comments written", timeline.comments, "#bcbd22"),
              ("orders placed", timeline.orders, "#e377c2"),
              ("sanctions issued", timeline.sanctions, "#000000")]
    fig, axes = plt.subplots(len(series), 1, figsize=(11, 7), dpi=100, sharex=True)
    try:
        span = timeline.span()
        weekly = False
        if span:
            first, last = date.fromisoformat(span[0]), date.fromisoformat(span[1])
            weekly = (last - first).days > 366
        for ax, (name, counts, color) in zip(axes, series):
            data = _bucket(counts, weekly)
            if data:
                xs = [datetime.combine(d, datetime.min.time()) for d, _ in data]
                ax.bar(xs, [n for _, n in data], width=6 if weekly else 0.9, color=color)
            total = sum(counts.values())
            ax.set_ylabel(f"{name}\n(total {total:,})", fontsize=8, rotation=0, ha="right", va="center")
            ax.tick_params(labelsize=7)
            ax.grid(axis="y", alpha=0.3)
        axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        fig.autofmt_xdate()
        fig.suptitle(f"{title}: per {'week' if weekly else 'day'} (UTC)", fontsize=10)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()
    finally:
        plt.close(fig)


def _bucket(counts: Counter, weekly: bool) -> list[tuple[date, int]]:
    buckets: Counter = Counter()
    for day, n in counts.items():
        d = date.fromisoformat(day)
        if weekly:
            d = date.fromordinal(d.toordinal() - d.weekday())
        buckets[d] += n
    return sorted(buckets.items())
