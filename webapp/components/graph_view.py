"""The graph explorer's drawing: vis-network in a Streamlit Components v2 component.

Why this and not pyvis or st-link-analysis
------------------------------------------
pyvis draws with vis-network but its HTML cannot send a click back to Python
(pyvis issues #85, #164, #181, still open), so click-to-expand cannot be built
on it; its template also loads Bootstrap from a CDN (fails offline) and, with
physics on, froze the page for seconds at 1,000 nodes (measured, see
shared/notes/graph-ui.md). ``st-link-analysis`` (Cytoscape.js) sends expand
and remove events and is maintained, but it is one more dependency with its
own styling model and event vocabulary, and it would draw the investigator's
graph differently from the pyvis snapshots in evidence packs.

So the smallest thing that does the job: a Components v2 component (Streamlit
1.51+, no iframe) around vis-network 10.1.2 -- the library pyvis itself draws
with, so shapes and colours match the static snapshots -- with the standalone
UMD bundle vendored beside this file (``vis-network.min.js``, Apache-2.0 OR
MIT), so the app works with no network access. The JS (``graph.js``, ~150
lines) keeps one ``vis.Network`` per graph across reruns and diffs the data it
is given, so:

- nodes arrive with positions computed on the server (``webapp/layout.py``:
  the browser settling ~600 nodes itself cost ~0.6 s per drawing at 1M
  accounts) and are drawn there; a drawing without them settles once (physics
  runs hidden during stabilisation, then is switched off). Either way it stays
  still: nodes added by an expansion are placed on a ring around the node they
  came from and nothing else moves;
- a click selects a node and a double-click expands it: both come back to
  Python as one trigger value ``event = {kind, node, seq}``, handled by
  ``on_event`` before the script reruns;
- node ids in the browser are opaque tokens (``app.state``), never an IP or a
  phone hash, and captions arrive already masked for the viewer's role;
- nothing from the data is ever parsed as HTML: labels are drawn on the
  canvas, titles are strings, which vis-network 10 shows with ``innerText``
  (only an ``Element`` title would be inserted as markup, and JSON cannot carry
  one), and the legend is built with DOM calls (a browser test hovers hostile
  nodes, ``tests/hostile/test_evidence.py``);
- the root element carries ``data-ready="true"`` once the layout has settled
  (and ``data-nodes``/``data-edges``), and ``window.__ringscopeGraph`` exposes
  the network, which is how the Playwright tests find a node on the canvas.

The event handling itself lives in plain functions (``app.state``), tested
directly: AppTest cannot click inside a component.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
COMPONENT_NAME = "ringscope_graph"

CSS = """
.rs-graph { position: relative; width: 100%; border: 1px solid #e3e6ea; border-radius: 6px; background: #fff; }
.rs-canvas { width: 100%; }
.rs-legend { display: flex; flex-wrap: wrap; gap: 10px; padding: 6px 10px; font: 12px sans-serif;
             color: #333; border-top: 1px solid #eef0f2; }
.rs-legend-item { display: inline-flex; align-items: center; gap: 4px; }
.rs-swatch { display: inline-block; width: 11px; height: 11px; border: 1px solid #555; }
.rs-swatch.rs-dot, .rs-swatch.rs-ellipse { border-radius: 50%; }
.rs-swatch.rs-diamond { transform: rotate(45deg) scale(0.8); }
.rs-swatch.rs-triangle, .rs-swatch.rs-triangleDown { clip-path: polygon(50% 0, 100% 100%, 0 100%); border: none; }
.rs-swatch.rs-star, .rs-swatch.rs-hexagon { clip-path: polygon(25% 0, 75% 0, 100% 50%, 75% 100%, 25% 100%, 0 50%);
                                            border: none; }
"""


@lru_cache(maxsize=1)
def bundle() -> str:
    """vis-network's UMD bundle followed by our module (it reads ``globalThis.vis``)."""
    return (HERE / "vis-network.min.js").read_text(encoding="utf-8") + "\n;\n" + \
        (HERE / "graph.js").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _component():
    import streamlit as st

    # Not isolated in a shadow root: vis-network injects its tooltip CSS into the document head.
    return st.components.v2.component(COMPONENT_NAME, js=bundle(), css=CSS, isolate_styles=False)


def graph_view(data: dict[str, Any], *, key: str, on_event: Callable[[], None]) -> Any:
    """Draw ``data`` (see ``app.state.ExplorerState.to_component``); ``on_event`` runs on a click."""
    mount = _component()
    return mount(key=key, data=data, on_event_change=on_event, height="content")
