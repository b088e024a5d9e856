// idr report: charts and the cluster explorer, drawn as inline SVG from the embedded JSON.
// No library and no network access: SVG is written as markup (the HTML parser gives it the
// SVG namespace), every text goes through esc().
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("idr-data").textContent);
  var $ = function (id) { return document.getElementById(id); };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmt(n) { return Number(n || 0).toLocaleString("en-US"); }
  function secs(s) {
    if (s < 10) return s.toFixed(2) + " s";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(Math.floor(s % 60)).padStart(2, "0") + "s";
    return Math.floor(s / 3600) + "h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
  }
  function short(key) { var i = key.indexOf(":"); return i >= 0 ? key.slice(i + 1) : key; }

  // Source colours: one per source table, in the order of the sources table (largest first).
  var PALETTE = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04", "#4f46e5", "#dc2626", "#0d9488", "#65a30d", "#7c3aed"];
  var colours = {};
  (D.sources || []).forEach(function (s, i) { colours[s.table_id] = PALETTE[i % PALETTE.length]; });
  function colour(src) {
    if (!(src in colours)) colours[src] = PALETTE[Object.keys(colours).length % PALETTE.length];
    return colours[src];
  }
  function paintSources(root) {
    root.querySelectorAll(".src[data-source] i").forEach(function (i) {
      i.style.background = colour(i.parentNode.getAttribute("data-source"));
    });
  }

  // ---- charts ----------------------------------------------------------------------------
  function empty(el, msg) { el.innerHTML = '<p class="empty">' + esc(msg) + "</p>"; }

  // niceScale returns the axis top and step for values up to max: steps of 1, 2 or 5 times a
  // power of ten, whole numbers for counts.
  function niceScale(max, whole) {
    if (!(max > 0)) return { top: 1, step: whole ? 1 : 0.25 };
    var raw = max / 4, p = Math.pow(10, Math.floor(Math.log10(raw))), step = p;
    [1, 2, 5, 10].some(function (m) { step = m * p; return m * p >= raw; });
    if (whole) step = Math.max(1, Math.round(step));
    return { top: Math.ceil(max / step - 1e-9) * step, step: step };
  }
  function tick(v, step) { return step >= 1 ? fmt(Math.round(v)) : String(Math.round(v * 100) / 100); }

  // Vertical bars: items [{label, value, title, colour}].
  function bars(el, items, opts) {
    if (!el) return;
    if (!items.length) { empty(el, opts.empty); return; }
    var W = 560, L = 44, R = 8, T = 18, bw = (W - L - R) / items.length;
    // Crowded bars get slanted labels, and room below for them.
    var slant = items.some(function (d) { return d.label.length * 6.5 > bw - 4; }), B = slant ? 52 : 34, H = 186 + B;
    var sc = niceScale(Math.max.apply(null, items.map(function (d) { return d.value; })), !opts.fractional);
    var s = '<svg viewBox="0 0 ' + W + " " + H + '" role="img">';
    for (var k = 0; k * sc.step <= sc.top + 1e-9; k++) {
      var v = k * sc.step, y = T + (H - T - B) * (1 - v / sc.top);
      s += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + y + '" y2="' + y + '"/>';
      s += '<text x="' + (L - 6) + '" y="' + (y + 4) + '" text-anchor="end">' + esc(tick(v, sc.step)) + "</text>";
    }
    items.forEach(function (d, i) {
      var w = Math.min(bw * 0.76, 64), h = (H - T - B) * d.value / sc.top, x = L + i * bw + (bw - w) / 2, y = H - B - h;
      if (d.value && h < 3) { h = 3; y = H - B - h; }
      s += '<g><title>' + esc(d.title) + '</title><rect class="bar" x="' + x + '" y="' + y + '" width="' + w + '" height="' + h +
        '" rx="2" style="fill:' + (d.colour || "") + '"/>';
      if (d.value) s += '<text class="val" x="' + (x + w / 2) + '" y="' + (y - 4) + '" text-anchor="middle">' + esc(opts.fractional ? d.value : fmt(d.value)) + "</text>";
      var lx = x + w / 2, ly = H - B + 15;
      s += slant ? '<text x="' + (lx + 4) + '" y="' + (ly - 2) + '" text-anchor="end" transform="rotate(-35 ' + (lx + 4) + " " + (ly - 2) + ')">' + esc(d.label) + "</text></g>"
        : '<text x="' + lx + '" y="' + ly + '" text-anchor="middle">' + esc(d.label) + "</text></g>";
    });
    s += '<text x="' + ((W + L) / 2) + '" y="' + (H - 2) + '" text-anchor="middle">' + esc(opts.xlabel) + "</text></svg>";
    el.innerHTML = s;
  }

  // Horizontal bars: items [{label, value, note, colour}].
  function hbars(el, items, opts) {
    if (!el) return;
    if (!items.length) { empty(el, opts.empty); return; }
    var W = 560, row = 30, L = 130, R = 100, H = items.length * row + 8;
    var max = Math.max.apply(null, items.map(function (d) { return d.value; })) || 1;
    var s = '<svg viewBox="0 0 ' + W + " " + H + '" role="img">';
    items.forEach(function (d, i) {
      var y = 4 + i * row, w = (W - L - R) * d.value / max;
      s += "<g><title>" + esc(d.title || d.label) + "</title>";
      s += '<text x="' + (L - 8) + '" y="' + (y + 18) + '" text-anchor="end">' + esc(d.label) + "</text>";
      s += '<rect class="bar" x="' + L + '" y="' + (y + 4) + '" width="' + Math.max(w, 1) + '" height="' + (row - 10) + '" rx="3" style="fill:' + (d.colour || "") + '"/>';
      s += '<text class="val" x="' + (L + Math.max(w, 1) + 6) + '" y="' + (y + 18) + '">' + esc(d.note) + "</text></g>";
    });
    el.innerHTML = s + "</svg>";
  }

  function compact(n) {
    if (n >= 1e6 && n % 1e5 === 0) return n / 1e6 + "M";
    if (n >= 1e4 && n % 1e3 === 0) return n / 1e3 + "k";
    return String(n);
  }
  function range(b) { return b.lo === b.hi ? compact(b.lo) : compact(b.lo) + "–" + compact(b.hi); }

  function lines(el, runs) {
    if (!el) return;
    if (!runs.length) { empty(el, "No runs yet."); return; }
    var W = 560, H = 220, L = 52, B = 34, T = 14, R = 12;
    var series = [
      { key: "clusters", name: "clusters", colour: "#2563eb" },
      { key: "edges", name: "edges", colour: "#ea580c" },
      { key: "entities", name: "entities processed", colour: "#16a34a" }
    ];
    var max = 1;
    runs.forEach(function (r) { series.forEach(function (se) { max = Math.max(max, r[se.key] || 0); }); });
    var sc = niceScale(max, true);
    max = sc.top;
    var n = runs.length, xs = function (i) { return n === 1 ? (L + W - R) / 2 : L + (W - L - R) * i / (n - 1); };
    var ys = function (v) { return T + (H - T - B) * (1 - v / max); };
    var s = '<svg viewBox="0 0 ' + W + " " + H + '" role="img">';
    for (var k = 0; k * sc.step <= max; k++) {
      var v = k * sc.step, y = ys(v);
      s += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + y + '" y2="' + y + '"/>';
      s += '<text x="' + (L - 6) + '" y="' + (y + 4) + '" text-anchor="end">' + esc(fmt(v)) + "</text>";
    }
    series.forEach(function (se) {
      var pts = runs.map(function (r, i) { return xs(i) + "," + ys(r[se.key] || 0); });
      if (n > 1) s += '<polyline fill="none" stroke="' + se.colour + '" stroke-width="2" points="' + pts.join(" ") + '"/>';
      runs.forEach(function (r, i) {
        s += '<circle cx="' + xs(i) + '" cy="' + ys(r[se.key] || 0) + '" r="3.5" fill="' + se.colour + '"><title>' +
          esc(r.run_id + " (" + r.mode + ", " + r.status + "): " + fmt(r[se.key]) + " " + se.name) + "</title></circle>";
      });
    });
    var step = Math.max(1, Math.ceil(n / 8));
    runs.forEach(function (r, i) {
      if (i % step === 0 || i === n - 1) s += '<text x="' + xs(i) + '" y="' + (H - B + 15) + '" text-anchor="middle">' + esc(r.started.slice(5, 16)) + "</text>";
    });
    s += "</svg>";
    el.innerHTML = s + '<div class="legend-row">' + series.map(function (se) {
      return '<span><i style="background:' + se.colour + '"></i>' + esc(se.name) + "</span>";
    }).join("") + "</div>";
  }

  var STATUS_COLOURS = { SUCCESS: "#16a34a", DRY_RUN_COMPLETE: "#2563eb", FAILED: "#dc2626", RUNNING: "#ca8a04" };

  function drawCharts() {
    bars($("chart-sizes"), (D.size_buckets || []).map(function (b) {
      return { label: range(b), value: b.count, title: fmt(b.count) + " clusters of " + range(b) + " members" };
    }), { xlabel: "members per cluster", empty: "No clusters yet." });
    bars($("chart-idents"), (D.identifier_buckets || []).map(function (b) {
      return { label: range(b), value: b.count, title: fmt(b.count) + " clusters with " + range(b) + " distinct identifiers" };
    }), { xlabel: "distinct identifiers per cluster", empty: "No clusters yet." });
    var hist = D.history || [];
    lines($("chart-history"), hist);
    var step = Math.max(1, Math.ceil(hist.length / 8));
    bars($("chart-duration"), hist.map(function (r, i) {
      return { label: i % step === 0 || i === hist.length - 1 ? r.started.slice(5, 16) : "", value: Math.round(r.seconds * 100) / 100,
        colour: STATUS_COLOURS[r.status] || "#9aa5b1", title: r.run_id + " (" + r.mode + ", " + r.status + "): " + secs(r.seconds) };
    }), { xlabel: "seconds (green: committed, blue: dry run, red: failed)", empty: "No runs yet.", fractional: true });
    var maxMS = 0;
    (D.stages || []).forEach(function (st) { maxMS = Math.max(maxMS, st.ms); });
    hbars($("chart-stages"), (D.stages || []).map(function (st) {
      return { label: st.stage, value: st.ms, note: fmt(st.ms) + " ms", title: st.stage + ": " + fmt(st.rows) + " rows in " + fmt(st.ms) + " ms", colour: "#486581" };
    }), { empty: "No stage metrics for the latest run." });
    hbars($("chart-sources"), (D.sources || []).map(function (so) {
      return { label: so.table_id, value: so.entities, colour: colour(so.table_id), note: fmt(so.entities) + " entities",
        title: so.table_id + ": " + fmt(so.entities) + " entities in " + fmt(so.clusters) + " clusters" };
    }), { empty: "No sources." });
  }

  // ---- graph layout: Fruchterman-Reingold, deterministic start on a circle ----------------
  function layout(nodes, links, W, H) {
    var n = nodes.length, k = Math.sqrt(W * H / Math.max(n, 1)) * 0.75;
    nodes.forEach(function (nd, i) {
      var a = 2 * Math.PI * i / Math.max(n, 1), r = Math.min(W, H) * 0.35;
      nd.x = W / 2 + (n > 1 ? r * Math.cos(a) : 0);
      nd.y = H / 2 + (n > 1 ? r * Math.sin(a) : 0);
    });
    if (n < 2) return;
    var iters = n > 150 ? 160 : 300, t = W / 8;
    for (var it = 0; it < iters; it++) {
      var dx = new Float64Array(n), dy = new Float64Array(n);
      for (var i = 0; i < n; i++) {
        for (var j = i + 1; j < n; j++) {
          var ex = nodes[i].x - nodes[j].x, ey = nodes[i].y - nodes[j].y, d2 = ex * ex + ey * ey || 0.01, f = k * k / d2;
          dx[i] += ex * f; dy[i] += ey * f; dx[j] -= ex * f; dy[j] -= ey * f;
        }
      }
      links.forEach(function (l) {
        var a = l.a, b = l.b, ex = nodes[a].x - nodes[b].x, ey = nodes[a].y - nodes[b].y, d = Math.sqrt(ex * ex + ey * ey) || 0.01, f = d / k;
        dx[a] -= ex * f; dy[a] -= ey * f; dx[b] += ex * f; dy[b] += ey * f;
      });
      for (i = 0; i < n; i++) {
        dx[i] += (W / 2 - nodes[i].x) * 0.02 * k / 10; dy[i] += (H / 2 - nodes[i].y) * 0.02 * k / 10;
        var len = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) || 1, m = Math.min(len, t);
        nodes[i].x += dx[i] / len * m; nodes[i].y += dy[i] / len * m;
      }
      t = Math.max(t * 0.97, 0.5);
    }
  }

  // ---- cluster explorer ------------------------------------------------------------------
  var index = D.index || { ids: [], sizes: [], keys: [], values: [] };
  var current = null, view = null;

  function selectCluster(rid, hit) {
    var sel = $("cluster-select");
    if (sel) sel.value = D.graphs && D.graphs[rid] ? rid : "";
    document.querySelectorAll("#largest tr[data-cluster]").forEach(function (tr) {
      tr.classList.toggle("active", tr.getAttribute("data-cluster") === rid);
    });
    var g = D.graphs && D.graphs[rid];
    $("graph-title").textContent = rid;
    $("edge-table").innerHTML = "";
    $("node-detail").textContent = "Select a node to see its identifiers.";
    if (!g) {
      var at = index.ids.indexOf(rid), size = at >= 0 ? index.sizes[at] : null;
      $("graph-info").textContent = size != null ? fmt(size) + " members" : "";
      $("graph").innerHTML = '<p class="empty">The graph of this cluster is not embedded: this report holds the graphs of the ' +
        esc(D.caps.graphs_embedded) + " largest clusters. Run <code>idr explain --db=PATH " + esc(hit || rid) +
        "</code>, or a report with a larger <code>--top</code>.</p>";
      $("legend").innerHTML = "";
      current = null;
      return;
    }
    current = { rid: rid, g: g, hit: hit };
    drawGraph();
  }

  function drawGraph() {
    var box = $("graph"), g = current.g, W = Math.max(box.clientWidth, 400), H = 460;
    var at = {}, nodes = g.members.map(function (m, i) { at[m.key] = i; return { m: m }; });
    var pairs = {}, links = [];
    g.edges.forEach(function (e, i) {
      var a = at[e.l], b = at[e.r];
      if (a == null || b == null) return;
      var pk = a < b ? a + "/" + b : b + "/" + a;
      if (!pairs[pk]) { pairs[pk] = []; links.push({ a: a, b: b }); }
      pairs[pk].push(i);
    });
    layout(nodes, links, W, H);
    // Fit the layout to the box in pixels, so circles and labels keep their size at any cluster size.
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    nodes.forEach(function (nd) { minX = Math.min(minX, nd.x); minY = Math.min(minY, nd.y); maxX = Math.max(maxX, nd.x); maxY = Math.max(maxY, nd.y); });
    var padX = 90, padY = 48, sx = (W - 2 * padX) / Math.max(maxX - minX, 1e-9), sy = (H - 2 * padY) / Math.max(maxY - minY, 1e-9);
    var sc = Math.min(sx, sy, 3);
    nodes.forEach(function (nd) {
      nd.x = W / 2 + (nd.x - (minX + maxX) / 2) * sc;
      nd.y = H / 2 + (nd.y - (minY + maxY) / 2) * sc;
    });
    view = { x: 0, y: 0, w: W, h: H };
    var n = nodes.length, labelEdges = g.edges.length <= 80, labelNodes = n <= 60, r = n > 100 ? 6 : 10;
    var s = '<svg id="graph-svg" viewBox="' + [view.x, view.y, view.w, view.h].join(" ") + '" preserveAspectRatio="xMidYMid meet">';
    s += '<g class="edges">';
    Object.keys(pairs).forEach(function (pk) {
      var idx = pairs[pk], m = idx.length;
      idx.forEach(function (ei, j) {
        var e = g.edges[ei], A = nodes[at[e.l]], B = nodes[at[e.r]];
        var off = (j - (m - 1) / 2) * 44, mx = (A.x + B.x) / 2, my = (A.y + B.y) / 2;
        var ddx = B.x - A.x, ddy = B.y - A.y, len = Math.sqrt(ddx * ddx + ddy * ddy) || 1;
        var cx = mx - ddy / len * off * 2, cy = my + ddx / len * off * 2;
        var lx = (A.x + 2 * cx + B.x) / 4, ly = (A.y + 2 * cy + B.y) / 4;
        s += '<g class="edge" data-type="' + esc(e.type) + '"><title>' + esc(e.type + " " + e.value + " (" + e.rule + ")\n" + e.l + " — " + e.r) + "</title>";
        s += '<path d="M' + A.x + "," + A.y + " Q" + cx + "," + cy + " " + B.x + "," + B.y + '"/>';
        if (labelEdges) s += '<text x="' + lx + '" y="' + (ly + 3) + '" text-anchor="middle">' + esc(e.type) + "</text>";
        s += "</g>";
      });
    });
    s += '</g><g class="nodes">';
    nodes.forEach(function (nd, i) {
      var m = nd.m, hit = current.hit && (current.hit === m.key || m.identifiers.some(function (iv) { return iv[1] === current.hit; }));
      s += '<g class="node' + (hit ? " hit" : "") + '" data-i="' + i + '" data-key="' + esc(m.key) + '" transform="translate(' + nd.x + "," + nd.y + ')">' +
        "<title>" + esc(m.key + " (" + m.source + ")") + '</title><circle r="' + r + '" fill="' + colour(m.source) + '"/>';
      if (labelNodes) s += '<text x="' + (r + 4) + '" y="4">' + esc(short(m.key)) + "</text>";
      s += "</g>";
    });
    s += "</g></svg>";
    s += '<div class="zoom"><button type="button" data-zoom="0.8" title="Zoom in">+</button><button type="button" data-zoom="1.25" title="Zoom out">−</button><button type="button" data-zoom="0" title="Fit">⤢</button></div>';
    box.innerHTML = s;
    var fit = { x: view.x, y: view.y, w: view.w, h: view.h };
    wire(box, nodes, fit);

    $("graph-info").textContent = fmt(g.size) + " members, " + fmt(g.edges_total) + " edges" + (g.truncated ? "; showing the first " +
      fmt(g.members.length) + " members by entity key and the " + fmt(g.edges.length) + " edges between them" : "");
    var seen = {}, legend = "<h4>Sources</h4>";
    g.members.forEach(function (m) {
      if (!seen[m.source]) { seen[m.source] = 0; }
      seen[m.source]++;
    });
    Object.keys(seen).sort().forEach(function (src) {
      legend += '<span class="src" data-source="' + esc(src) + '"><i></i>' + esc(src) + " · " + fmt(seen[src]) + "</span>";
    });
    $("legend").innerHTML = legend;
    paintSources($("legend"));
    var t = '<h3>Edges</h3><div class="scroll tall"><table class="grid"><thead><tr><th>left entity</th><th>right entity</th><th>type</th><th>value</th><th>rule</th></tr></thead><tbody>';
    g.edges.slice(0, 500).forEach(function (e) {
      t += '<tr><td class="mono">' + esc(e.l) + '</td><td class="mono">' + esc(e.r) + '</td><td><span class="type">' + esc(e.type) +
        '</span></td><td class="mono">' + esc(e.value) + '</td><td class="mono">' + esc(e.rule) + "</td></tr>";
    });
    t += "</tbody></table></div>";
    if (g.edges.length > 500) t += '<p class="note">The first 500 of ' + fmt(g.edges.length) + " edges.</p>";
    $("edge-table").innerHTML = g.edges.length ? t : '<p class="note">No edges: a single entity.</p>';
    var hitNode = nodes.find(function (nd) { return current.hit === nd.m.key; });
    if (hitNode) showNode(hitNode.m);
  }

  function showNode(m) {
    var g = current.g, links = g.edges.filter(function (e) { return e.l === m.key || e.r === m.key; });
    var h = '<h4>Entity</h4><div class="key">' + esc(m.key) + '</div><div class="src" data-source="' + esc(m.source) + '"><i></i>' + esc(m.source) + "</div>";
    h += "<h4 style=\"margin-top:10px\">Identifiers</h4><ul>" + (m.identifiers.length ? m.identifiers.map(function (iv) {
      return '<li><span class="type">' + esc(iv[0]) + "</span> " + esc(iv[1]) + "</li>";
    }).join("") : "<li class=\"dim\">none</li>") + "</ul>";
    h += "<h4>Linked to</h4><ul>" + (links.length ? links.map(function (e) {
      return "<li>" + esc(short(e.l === m.key ? e.r : e.l)) + ' <span class="type">' + esc(e.type) + "</span></li>";
    }).join("") : '<li class="dim">no edge</li>') + "</ul>";
    $("node-detail").innerHTML = h;
    paintSources($("node-detail"));
    document.querySelectorAll("#graph .node").forEach(function (el) { el.classList.toggle("sel", el.getAttribute("data-key") === m.key); });
  }

  function wire(box, nodes, fit) {
    var svg = box.querySelector("svg"), drag = null;
    function apply() { svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" ")); }
    function zoom(f, cx, cy) {
      cx = cx == null ? view.x + view.w / 2 : cx; cy = cy == null ? view.y + view.h / 2 : cy;
      view = { x: cx - (cx - view.x) * f, y: cy - (cy - view.y) * f, w: view.w * f, h: view.h * f };
      apply();
    }
    box.querySelectorAll(".zoom button").forEach(function (b) {
      b.addEventListener("click", function () {
        var f = Number(b.getAttribute("data-zoom"));
        if (f) zoom(f); else { view = { x: fit.x, y: fit.y, w: fit.w, h: fit.h }; apply(); }
      });
    });
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var rect = svg.getBoundingClientRect(), s = Math.max(view.w / rect.width, view.h / rect.height);
      var ox = (rect.width - view.w / s) / 2, oy = (rect.height - view.h / s) / 2;
      zoom(ev.deltaY > 0 ? 1.1 : 1 / 1.1, view.x + (ev.clientX - rect.left - ox) * s, view.y + (ev.clientY - rect.top - oy) * s);
    }, { passive: false });
    svg.addEventListener("mousedown", function (ev) {
      var node = ev.target.closest(".node");
      if (node) { showNode(nodes[Number(node.getAttribute("data-i"))].m); return; }
      drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y };
      svg.classList.add("dragging");
    });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) return;
      var rect = svg.getBoundingClientRect(), s = Math.max(view.w / rect.width, view.h / rect.height);
      view.x = drag.vx - (ev.clientX - drag.x) * s; view.y = drag.vy - (ev.clientY - drag.y) * s;
      apply();
    });
    window.addEventListener("mouseup", function () { drag = null; svg.classList.remove("dragging"); });
  }

  // ---- search ----------------------------------------------------------------------------
  function search(q) {
    q = q.trim().toLowerCase();
    var out = [], seen = {};
    if (!q) return out;
    function add(kind, text, type, cid, exact) {
      var k = kind + "\u0000" + text + "\u0000" + cid;
      if (seen[k]) return;
      seen[k] = true;
      out.push({ kind: kind, text: text, type: type, rid: index.ids[cid], size: index.sizes[cid], exact: exact });
    }
    index.ids.forEach(function (rid, i) { var t = rid.toLowerCase(); if (t.indexOf(q) >= 0) add("cluster", rid, "", i, t === q); });
    index.keys.forEach(function (e) { var t = e[0].toLowerCase(); if (t.indexOf(q) >= 0) add("entity", e[0], "", e[1], t === q || short(t) === q); });
    index.values.forEach(function (v) { var t = v[1].toLowerCase(); if (t.indexOf(q) >= 0) add("value", v[1], v[0], v[2], t === q); });
    out.sort(function (a, b) { return (b.exact - a.exact) || (b.size - a.size); });
    return out;
  }

  function showResults() {
    var q = $("search").value, res = search(q), box = $("search-results");
    if (!q.trim()) { box.innerHTML = ""; return; }
    if (!res.length) {
      box.innerHTML = '<p class="note">No match for “' + esc(q) + "”" + (index.complete ? "." :
        ": the index holds the entities and identifier values of the embedded clusters only; try <code>idr explain</code>.") + "</p>";
      return;
    }
    box.innerHTML = res.slice(0, 12).map(function (r, i) {
      var what = r.kind === "value" ? '<span class="type">' + esc(r.type) + "</span> " + esc(r.text) :
        r.kind === "entity" ? '<span class="dim">entity</span> <span class="mono">' + esc(r.text) + "</span>" :
          '<span class="dim">cluster</span> <span class="mono">' + esc(r.text) + "</span>";
      return '<div class="result" data-i="' + i + '">' + what + ' <span class="arrow">→</span> <span class="mono">' + esc(r.rid) +
        '</span> <span class="dim">(' + fmt(r.size) + " members)</span></div>";
    }).join("") + (res.length > 12 ? '<p class="note">' + fmt(res.length - 12) + " more matches; refine the search.</p>" : "");
    box.querySelectorAll(".result").forEach(function (el) {
      el.addEventListener("click", function () {
        var r = res[Number(el.getAttribute("data-i"))];
        selectCluster(r.rid, r.kind === "cluster" ? null : r.text);
      });
    });
  }

  // ---- wiring ----------------------------------------------------------------------------
  drawCharts();
  paintSources(document);
  var sel = $("cluster-select");
  if (sel) sel.addEventListener("change", function () { if (sel.value) selectCluster(sel.value); });
  document.querySelectorAll("#largest tr[data-cluster], .cluster-link").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      ev.preventDefault();
      selectCluster(el.getAttribute("data-cluster"));
      $("explorer").scrollIntoView();
    });
  });
  var timer = null, input = $("search");
  if (input) {
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(showResults, 120); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") return;
      var res = search(input.value);
      showResults();
      if (res.length) selectCluster(res[0].rid, res[0].kind === "cluster" ? null : res[0].text);
    });
  }
  // Open the largest cluster with a graph, so the explorer is never blank.
  var first = (D.clusters || []).find(function (c) { return c.has_graph; });
  if (first) selectCluster(first.id);
  window.idrReport = { select: selectCluster, search: search, data: D };
})();
