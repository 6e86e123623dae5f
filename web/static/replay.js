// Auditor replay: the course plan with the vehicle's track, a time cursor, the outline
// at the cursor (placed on the server exactly as the judge placed it), and the
// deduction timeline (click to jump; previous / next).
(function () {
  "use strict";
  const box = document.getElementById("replay");
  const d = box.dataset;
  const svg = document.getElementById("plan");
  const cursor = document.getElementById("cursor");
  const clock = document.getElementById("clock");
  const NS = "http://www.w3.org/2000/svg";
  let data = null;
  let outline = null;
  let pending = null;

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (parent || svg).appendChild(e);
    return e;
  }
  // Course y points north; SVG y points down.
  function pts(list) { return list.map(function (p) { return p[0] + "," + (-p[1]); }).join(" "); }

  function draw() {
    const b = data.plan.bounds, m = 2;
    svg.setAttribute("viewBox", [b[0] - m, -b[3] - m, b[2] - b[0] + 2 * m, b[3] - b[1] + 2 * m].join(" "));
    data.plan.items.forEach(function (item) {
      el("polygon", {points: pts(item.zone), class: "zone"});
      if (item.slope) el("polygon", {points: pts(item.slope), class: "slope"});
      item.lines.forEach(function (l) {
        el("polyline", {points: pts(l.points), class: "line " + l.kind, "stroke-width": l.width});
      });
      item.poles.forEach(function (p) { el("circle", {cx: p.x, cy: -p.y, r: Math.max(p.r, 0.08), class: "pole"}); });
      item.decks.forEach(function (deck) { el("polygon", {points: pts(deck.polygon), class: "deck"}); });
    });
    el("polyline", {points: pts(data.poses.map(function (p) { return [p[1], p[2]]; })), class: "track"});
    data.deductions.forEach(function (ded) {
      const p = poseAt(ded.t);
      if (p) el("circle", {cx: p[1], cy: -p[2], r: 0.3, class: ded.disqualify ? "mark dq" : "mark"});
    });
    outline = el("polygon", {points: "", class: "outline"});
  }

  function poseAt(t) {
    let found = null;
    data.poses.forEach(function (p) { if (p[0] <= t) found = p; });
    return found;
  }

  function seek(t) {
    cursor.value = t;
    clock.value = (t - data.start_t).toFixed(1) + " s";
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () {
      fetch(d.outline + "?t=" + t).then(function (r) { return r.json(); }).then(function (o) {
        outline.setAttribute("points", o.outline ? pts(o.outline) : "");
        box.dataset.cursorT = o.t;
      });
    }, 60);
    showVideo(t);
  }

  // Every camera's evidence on the cursor's axis: journal t -> UTC through the start
  // command's (t, utc), then walk the camera's segments for the one showing that moment.
  // The index already holds each segment's calibrated UTC (offset applied when filed).
  let footage = null;
  function cameraView(cam) {
    const fig = document.createElement("figure");
    const v = document.createElement("video");
    v.muted = true; v.preload = "auto"; v.playsInline = true;
    v.dataset.camera = cam.camera;
    const cap = document.createElement("figcaption");
    cap.textContent = cam.camera;
    fig.appendChild(v); fig.appendChild(cap);
    document.getElementById("videos").appendChild(fig);
    return {cam: cam, video: v, caption: cap, segment: null};
  }
  function placeIn(view, seg, offset, utc) {
    const v = view.video;
    const apply = function () {
      v.addEventListener("seeked", function () {
        v.dataset.segment = seg.id;
        v.dataset.shownUtc = (seg.start + v.currentTime).toFixed(3);
        v.dataset.wantedUtc = utc.toFixed(3);
      }, {once: true});
      v.currentTime = Math.min(offset, Math.max(0, (v.duration || seg.duration) - 0.01));
    };
    if (view.segment !== seg.id) {
      view.segment = seg.id;
      v.src = seg.url;
      v.addEventListener("loadedmetadata", apply, {once: true});
    } else if (v.readyState >= 1) {
      apply();
    }
  }
  function showVideo(t) {
    if (!footage || footage.anchor_t === null) return;
    const utc = footage.anchor_utc + (t - footage.anchor_t);
    footage.views.forEach(function (view) {
      const seg = view.cam.segments.find(function (s) { return s.start <= utc && utc < s.end; });
      view.caption.textContent = view.cam.camera + (seg ? "" : " · " + d.tNoVideo);
      if (seg) placeIn(view, seg, utc - seg.start, utc);
    });
  }
  function loadVideo() {
    return fetch(d.video).then(function (r) { return r.json(); }).then(function (json) {
      if (!json.served || !json.cameras.length) return;
      footage = json;
      footage.views = json.cameras.map(cameraView);
    });
  }

  function timeline() {
    const list = document.getElementById("timeline");
    data.deductions.forEach(function (ded) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = ded.disqualify ? "dq" : "";
      b.textContent = (ded.t - data.start_t).toFixed(1) + " s · " + ded.title;
      b.addEventListener("click", function () { seek(ded.t); });
      li.appendChild(b);
      list.appendChild(li);
    });
    document.getElementById("next").onclick = function () {
      const now = parseFloat(cursor.value);
      const next = data.deductions.find(function (x) { return x.t > now + 1e-6; });
      if (next) seek(next.t);
    };
    document.getElementById("prev").onclick = function () {
      const now = parseFloat(cursor.value);
      const before = data.deductions.filter(function (x) { return x.t < now - 1e-6; });
      if (before.length) seek(before[before.length - 1].t);
    };
  }

  const rejudge = document.getElementById("rejudge");
  if (rejudge) rejudge.onclick = function () {
    fetch(d.rejudge, {method: "POST", headers: {"X-CSRFToken": d.csrf}})
      .then(function (r) { return r.json(); }).then(function (answer) {
        const out = document.getElementById("rejudged");
        out.hidden = false;
        out.replaceChildren();
        const head = document.createElement("p");
        if (answer.error) {  // the attempt cannot be re-judged (no stored rules, altered snapshot)
          head.className = "flash error";
          head.textContent = answer.error;
          out.appendChild(head);
          return;
        }
        head.className = answer.differences.length ? "flash error" : "flash ok";
        head.textContent = answer.differences.length ? d.tDiff : d.tSame;
        out.appendChild(head);
        (answer.notes || []).forEach(function (x) {
          const p = document.createElement("p"); p.className = "flash"; p.textContent = x; out.appendChild(p);
        });
        const ul = document.createElement("ul");
        answer.differences.forEach(function (x) { const li = document.createElement("li"); li.textContent = x; ul.appendChild(li); });
        out.appendChild(ul);
      });
  };

  fetch(d.track).then(function (r) { return r.json(); }).then(function (json) {
    data = json;
    cursor.min = data.start_t;
    cursor.max = data.end_t;
    cursor.addEventListener("input", function () { seek(parseFloat(cursor.value)); });
    draw();
    timeline();
    return loadVideo().then(function () { seek(data.start_t); });
  });
})();
