// ringscope graph view: vis-network inside a Streamlit Components v2 component.
// The vis-network UMD bundle is prepended to this file by graph_view.py (it sets globalThis.vis).
//
// Data from Python (all ids are opaque tokens; captions are already masked; every text is shown as text:
// labels are drawn on the canvas, titles arrive as JSON strings, which vis-network 10 puts in its tooltip with
// innerText, and the legend is built with the DOM):
//   {graph_id, nodes: [{id, label, title, shape, color, size, fixed, near}], edges: [{id, from, to, label}],
//    legend: [{text, color, shape}], height, focus}
// Events to Python (one trigger, "event"): {kind: "select"|"expand", node, seq}
//
// Nodes come with positions computed on the server (webapp/layout.py) and are drawn there at once; a
// drawing without them settles its layout once per graph_id (physics runs hidden, then stops). Nodes added
// later are placed around the node they came from and nothing else moves, so the picture stays still.

const STATE = "__ringscopeGraph";

function ringPositions(network, nodes, data) {
  // Place each new node on a ring around its "near" node (the node it was expanded from).
  const byNear = {};
  for (const n of nodes) {
    if (!n.near) continue;
    (byNear[n.near] = byNear[n.near] || []).push(n);
  }
  for (const [near, group] of Object.entries(byNear)) {
    let center;
    try { center = network.getPosition(near); } catch (e) { center = null; }
    if (!center || Number.isNaN(center.x)) continue;
    const radius = 120 + 6 * Math.sqrt(group.length) * 10;
    group.forEach((n, i) => {
      const angle = (2 * Math.PI * i) / group.length;
      n.x = center.x + radius * Math.cos(angle);
      n.y = center.y + radius * Math.sin(angle);
    });
  }
  return nodes;
}

function drawLegend(box, items) {
  // Built with the DOM, never innerHTML: a label that came from the data stays text.
  box.replaceChildren(...items.map((it) => {
    const item = document.createElement("span");
    item.className = "rs-legend-item";
    const swatch = document.createElement("span");
    swatch.className = `rs-swatch rs-${String(it.shape).replace(/[^A-Za-z]/g, "")}`;
    swatch.style.background = String(it.color);
    item.append(swatch, document.createTextNode(String(it.text)));
    return item;
  }));
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const vis = globalThis.vis;
  let root = parentElement.querySelector(".rs-graph");
  if (!root) {
    root = document.createElement("div");
    root.className = "rs-graph";
    root.innerHTML = `<div class="rs-canvas"></div><div class="rs-legend"></div>`;
    parentElement.appendChild(root);
  }
  const canvas = root.querySelector(".rs-canvas");
  canvas.style.height = `${data.height || 600}px`;
  drawLegend(root.querySelector(".rs-legend"), data.legend || []);

  let st = root[STATE];
  if (!st || st.graphId !== data.graph_id) {
    if (st) st.network.destroy();
    root.dataset.ready = "false";
    const nodes = new vis.DataSet(data.nodes);
    const edges = new vis.DataSet(data.edges);
    const hasPositions = data.nodes.length > 0 && data.nodes.every((n) => n.x !== undefined);
    const network = new vis.Network(canvas, { nodes, edges }, {
      autoResize: true,
      layout: { improvedLayout: data.nodes.length < 150, randomSeed: 7 },
      physics: {
        enabled: !hasPositions,
        solver: "forceAtlas2Based",
        forceAtlas2Based: { gravitationalConstant: -60, springLength: 90, avoidOverlap: 0.4 },
        // A cluster drawing of 300 members and their shared devices took 1.7 s to settle at 250 iterations
        // (benchmarks/results/app_browser.md); a large drawing settles well enough in fewer.
        stabilization: { enabled: true, iterations: data.nodes.length > 300 ? 120 : 250, updateInterval: 50,
                         fit: true },
      },
      interaction: { hover: true, tooltipDelay: 150, hideEdgesOnDrag: data.nodes.length > 800,
                     hideEdgesOnZoom: data.nodes.length > 800 },
      nodes: { font: { size: 11, face: "sans-serif" }, borderWidth: 1 },
      edges: { smooth: false, color: { color: "#9aa4b2", highlight: "#333" }, width: 0.8,
               arrows: { to: { enabled: true, scaleFactor: 0.35 } }, font: { size: 8, align: "middle" } },
    });
    st = { graphId: data.graph_id, network, nodes, edges, seq: 0 };
    root[STATE] = st;
    window.__ringscopeGraph = { network, nodes, edges, root };
    const settled = () => {
      network.setOptions({ physics: { enabled: false } });
      network.fit({ animation: false });
      root.dataset.ready = "true";
    };
    if (hasPositions || data.nodes.length === 0) settled();
    else network.once("stabilizationIterationsDone", settled);
    network.on("click", (params) => {
      if (!params.nodes.length) return;
      // vis-network follows a doubleClick with one more click on the node: sent, that "select" would replace
      // the "expand" in the one trigger before Streamlit reads it, and the double-click would expand nothing.
      const last = st.lastExpand;
      if (last && last.node === params.nodes[0] && Date.now() - last.at < 500) return;
      setTriggerValue("event", { kind: "select", node: params.nodes[0], seq: ++st.seq });
    });
    network.on("doubleClick", (params) => {
      if (!params.nodes.length) return;
      st.lastExpand = { node: params.nodes[0], at: Date.now() };
      setTriggerValue("event", { kind: "expand", node: params.nodes[0], seq: ++st.seq });
    });
  } else {
    // Same graph: add what is new (placed near where it came from), drop what was hidden, restyle the rest.
    const incoming = new Map(data.nodes.map((n) => [n.id, n]));
    const stale = st.nodes.getIds().filter((id) => !incoming.has(id));
    if (stale.length) st.nodes.remove(stale);
    const fresh = data.nodes.filter((n) => !st.nodes.get(n.id));
    const update = data.nodes.filter((n) => st.nodes.get(n.id)).map((n) => {
      const { near, x, y, ...rest } = n;
      return rest;
    });
    if (update.length) st.nodes.update(update);
    if (fresh.length) st.nodes.add(ringPositions(st.network, fresh, data));
    const edgeIds = new Set(data.edges.map((e) => e.id));
    const staleEdges = st.edges.getIds().filter((id) => !edgeIds.has(id));
    if (staleEdges.length) st.edges.remove(staleEdges);
    st.edges.update(data.edges);
    root.dataset.ready = "true";
  }
  root.dataset.nodes = String(st.nodes.length);
  root.dataset.edges = String(st.edges.length);
  if (data.focus && st.nodes.get(data.focus) && st.lastFocus !== data.focus_seq) {
    st.lastFocus = data.focus_seq;
    st.network.focus(data.focus, { scale: 1.2, animation: false });
    st.network.selectNodes([data.focus]);
  }
}
