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
  let data = null;
  let outline = null;
  const plan = window.examroomCoursePlan;  // courseplan.js: the drawing the live console shares
  const pts = plan.points;
  function el(name, attrs, parent) { return plan.el(parent || svg, name, attrs); }

  function draw() {
    plan.draw(svg, data.plan);
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

  // -- the one clock ---------------------------------------------------------------
  // ``now`` is the journal time the whole page shows: the cursor, the outline and every
  // camera. Playing advances it with the wall clock times the speed; each camera plays
  // along at the same rate and is put back on ``now`` when it drifts. Moving any camera
  // (its own controls) moves ``now``, and with it every other camera.
  const SPEEDS = [0.25, 0.5, 1, 2, 4];
  const DRIFT = 0.25;  // seconds a playing camera may be off before it is re-seeked
  const FRAME = parseFloat(d.frame || "0.04");  // one frame at 25 fps, the cameras' rate
  let now = 0, playing = false, speed = 1, lastTick = null;
  const playButton = document.getElementById("play");
  const speedBox = document.getElementById("speed");

  function seek(t, fromView) {
    now = Math.min(Math.max(t, data.start_t), data.end_t);
    cursor.value = now;
    clock.value = (now - data.start_t).toFixed(2) + " s" + wallClock(now);
    box.dataset.now = now.toFixed(3);
    if (footage && footage.anchor_t !== null) box.dataset.nowUtc = (footage.anchor_utc + now - footage.anchor_t).toFixed(3);
    outlineSoon();
    showVideo(now, fromView);
  }

  // The moment as the course's local time (the zone is stated at the page's foot).
  function wallClock(t) {
    if (!footage || footage.anchor_t === null) return "";
    const local = new Date((footage.anchor_utc + t - footage.anchor_t + parseInt(d.zoneOffset || "0", 10)) * 1000);
    const two = function (n) { return String(n).padStart(2, "0"); };
    return " · " + two(local.getUTCHours()) + ":" + two(local.getUTCMinutes()) + ":" + two(local.getUTCSeconds());
  }

  let outlineBusy = false, outlineDirty = false;
  function outlineSoon() {  // at most one request in flight: dragging or playing never queues them up
    if (outlineBusy) { outlineDirty = true; return; }
    outlineBusy = true;
    const t = now;
    fetch(d.outline + "?t=" + t).then(function (r) { return r.json(); }).then(function (o) {
      outline.setAttribute("points", o.outline ? pts(o.outline) : "");
      box.dataset.cursorT = o.t;
    }).finally(function () {
      outlineBusy = false;
      if (outlineDirty) { outlineDirty = false; outlineSoon(); }
    });
  }

  function play() {
    if (playing) return;
    if (now >= data.end_t) seek(data.start_t);
    playing = true;
    lastTick = null;
    box.dataset.playing = "1";
    playButton.textContent = d.tPause;
    showVideo(now);
    requestAnimationFrame(tick);
  }
  function pause() {
    if (!playing) return;
    playing = false;
    box.dataset.playing = "";
    playButton.textContent = d.tPlay;
    seek(now);  // every camera comes to rest on the same moment
  }
  function tick(ts) {
    if (!playing) return;
    if (lastTick !== null) {
      const t = now + (ts - lastTick) / 1000 * speed;
      if (t >= data.end_t) { seek(data.end_t); pause(); return; }
      seek(t);
    }
    lastTick = ts;
    requestAnimationFrame(tick);
  }
  function setSpeed(value) {
    speed = value;
    speedBox.value = String(value);
    box.dataset.speed = String(value);
    if (footage) footage.views.forEach(function (view) { view.video.playbackRate = speed; });
  }
  function step(frames) {
    pause();
    seek(now + frames * FRAME);
  }

  playButton.addEventListener("click", function () { if (playing) pause(); else play(); });
  SPEEDS.forEach(function (s) {
    const o = document.createElement("option");
    o.value = String(s);
    o.textContent = s + "×";
    speedBox.appendChild(o);
  });
  speedBox.value = "1";
  speedBox.addEventListener("change", function () { setSpeed(parseFloat(speedBox.value)); });
  document.getElementById("frame-back").addEventListener("click", function () { step(-1); });
  document.getElementById("frame-next").addEventListener("click", function () { step(1); });
  document.addEventListener("keydown", function (e) {
    if (!data || e.target.closest("input, textarea, select, button")) return;
    if (e.key === " ") { e.preventDefault(); if (playing) pause(); else play(); }
    else if (e.key === ",") step(-1);
    else if (e.key === ".") step(1);
  });

  // Every camera's evidence on the cursor's axis: journal t -> UTC through the start
  // command's (t, utc), then walk the camera's segments for the one showing that moment.
  // The index already holds each segment's calibrated UTC (offset applied when filed).
  let footage = null;
  function cameraView(cam) {
    const fig = document.createElement("figure");
    const v = document.createElement("video");
    v.muted = true; v.preload = "auto"; v.playsInline = true; v.controls = true;
    v.dataset.camera = cam.camera;
    const cap = document.createElement("figcaption");
    const name = document.createElement("span");
    name.textContent = cam.label || cam.camera;
    name.title = cam.camera;
    const note = document.createElement("span");
    note.className = "note-novideo";
    const full = document.createElement("button");
    full.type = "button";
    full.className = "fullscreen";
    full.textContent = d.tFullscreen;
    full.addEventListener("click", function () {
      if (document.fullscreenElement === fig) document.exitFullscreen();
      else fig.requestFullscreen();
    });
    cap.append(name, note, full);
    fig.appendChild(v); fig.appendChild(cap);
    document.getElementById("videos").appendChild(fig);
    const view = {cam: cam, video: v, caption: note, figure: fig, segment: null, target: null,
                loading: false, ownPlays: 0, ownPauses: 0};
    follow(view);
    return view;
  }

  // A camera moved by its own controls moves the page's clock; our own moves (to
  // ``view.target``) and the pause at a segment's end are told apart and ignored.
  function follow(view) {
    const v = view.video;
    v.addEventListener("seeked", function () {
      // A segment still loading was put nowhere yet: a seek it reports (to its start) is the
      // browser's, never the user's; taken for the user's it dragged the clock back to the
      // segment's start while playing.
      if (view.loading) return;
      // A playing video has moved on from where the page put it by the time the seek completes
      // (more so on a busy machine): only a bigger jump is the user's.
      const slack = playing ? 0.5 + 0.5 * speed : 0.05;
      if (view.target !== null && Math.abs(v.currentTime - view.target) < slack) return;
      const seg = view.cam.segments.find(function (s) { return s.id === view.segment; });
      if (!seg || !footage) return;
      seek(footage.anchor_t + (seg.start + v.currentTime - footage.anchor_utc), view);
    });
    v.addEventListener("play", function () {
      if (view.ownPlays > 0) { view.ownPlays -= 1; return; }
      if (!playing) play();
    });
    v.addEventListener("pause", function () {
      if (view.ownPauses > 0) { view.ownPauses -= 1; return; }
      if (!v.ended && playing) pause();
    });
    v.addEventListener("ratechange", function () {
      if (Math.abs(v.playbackRate - speed) > 1e-6) setSpeed(v.playbackRate);
    });
  }

  // Play and pause the page asks for itself: counted, so their events are not taken for the user's.
  function ownPlay(view) {
    if (!view.video.paused) return;
    view.ownPlays += 1;
    view.video.play().catch(function () { /* a newer placement took over */ });
  }
  function ownPause(view) {
    if (view.video.paused) return;
    view.ownPauses += 1;
    view.video.pause();
  }
  function setTime(view, seconds, utc, seg) {
    const v = view.video;
    const to = Math.min(seconds, Math.max(0, (v.duration || seg.duration) - 0.01));
    view.target = to;
    v.addEventListener("seeked", function () {
      v.dataset.segment = seg.id;
      v.dataset.shownUtc = (seg.start + v.currentTime).toFixed(3);
      v.dataset.wantedUtc = utc.toFixed(3);
    }, {once: true});
    v.currentTime = to;
  }
  function placeIn(view, seg, offset, utc) {
    const v = view.video;
    if (view.segment !== seg.id) {
      view.segment = seg.id;
      view.loading = true;
      view.target = null;
      ownPause(view);
      v.src = seg.url;
      v.dataset.segStart = seg.start;
      v.playbackRate = speed;
      v.addEventListener("loadedmetadata", function () {
        // Time has moved on while the segment loaded: place it where the clock is now.
        const u = footage.anchor_utc + (now - footage.anchor_t);
        view.loading = false;
        setTime(view, u - seg.start, u, seg);
        v.playbackRate = speed;
        if (playing) ownPlay(view);
      }, {once: true});
      return;
    }
    if (v.readyState < 1) return;
    if (playing) {
      if (v.playbackRate !== speed) v.playbackRate = speed;
      if (Math.abs(v.currentTime - offset) > DRIFT * Math.max(1, speed)) setTime(view, offset, utc, seg);
      if (v.paused) ownPlay(view);
    } else {
      if (!v.paused) ownPause(view);
      setTime(view, offset, utc, seg);
    }
  }
  function showVideo(t, fromView) {
    if (!footage || footage.anchor_t === null) return;
    const utc = footage.anchor_utc + (t - footage.anchor_t);
    footage.views.forEach(function (view) {
      const seg = view.cam.segments.find(function (s) { return s.start <= utc && utc < s.end; });
      view.caption.textContent = seg ? "" : " · " + d.tNoVideo;
      view.figure.classList.toggle("novideo", !seg);
      if (!seg) {
        if (!view.video.paused) ownPause(view);
        return;
      }
      if (view === fromView && !playing) {  // it is already where the user put it
        view.video.dataset.wantedUtc = view.video.dataset.shownUtc = utc.toFixed(3);
        return;
      }
      placeIn(view, seg, utc - seg.start, utc);
    });
  }
  function loadVideo() {
    return fetch(d.video).then(function (r) { return r.json(); }).then(function (json) {
      if (!json.served || !json.cameras.length) return;
      footage = json;
      footage.views = json.cameras.map(cameraView);
    });
  }

  // The shared controls go into a camera's full screen, and come back when it ends.
  const timebar = document.querySelector("#replay .timebar");
  const home = timebar.parentNode, after = timebar.nextSibling;
  document.addEventListener("fullscreenchange", function () {
    const full = document.fullscreenElement;
    if (full && full.tagName === "FIGURE") full.appendChild(timebar);
    else home.insertBefore(timebar, after);
  });

  // Deductions on the time axis, under the scrubber: each mark jumps to its moment.
  function marks() {
    const axis = document.getElementById("marks");
    const span = Math.max(data.end_t - data.start_t, 1e-3);
    data.deductions.forEach(function (ded) {
      const x = 1000 * (ded.t - data.start_t) / span;
      const m = el("polygon", {points: [x - 8, 20, x + 8, 20, x, 4].join(" "),
                               class: ded.disqualify ? "mark dq" : "mark"}, axis);
      m.dataset.t = ded.t;
      const title = document.createElementNS(plan.NS, "title");
      title.textContent = (ded.t - data.start_t).toFixed(1) + " s · " + ded.title;
      m.appendChild(title);
      m.addEventListener("click", function () { seek(ded.t); });
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
      const next = data.deductions.find(function (x) { return x.t > now + 1e-6; });
      if (next) seek(next.t);
    };
    document.getElementById("prev").onclick = function () {
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
    marks();
    return loadVideo().then(function () { seek(data.start_t); });
  });
})();
