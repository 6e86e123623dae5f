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
  // camera. It is the only clock: playing advances it with the wall clock (the animation
  // frame's timestamp) times the speed, and nothing else moves it but the user. The cameras
  // follow it: after every change of the clock each camera is put where the clock says
  // (``place``), and while playing it plays along at the same rate and is re-seeked when it
  // drifts. Moving any camera with its own controls is the user moving the clock, and with
  // it every other camera.
  const SPEEDS = [0.25, 0.5, 1, 2, 4];
  const DRIFT = 0.25;  // seconds a playing camera may be off before it is re-seeked
  const FRAME = parseFloat(d.frame || "0.04");  // one frame at 25 fps, the cameras' rate
  const END = 0.01;  // a camera rests this far before its video's end (at the end the browser ends it)
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
    showVideo(fromView);
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
    showVideo();
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
      box.dataset.wall = ts.toFixed(3);  // the wall-clock moment (ms) ``now`` was advanced to
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
    if (footage) footage.views.forEach(function (view) { setRate(view.video); });
  }
  function setRate(v) {
    // The default rate too: loading a segment resets the rate to it.
    if (v.defaultPlaybackRate !== speed) v.defaultPlaybackRate = speed;
    if (v.playbackRate !== speed) v.playbackRate = speed;
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
  function nowUtc() { return footage.anchor_utc + (now - footage.anchor_t); }
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
    // seg: the segment whose file the video holds; loading: its metadata is not in yet;
    // run: whether the page wants this video playing; seeks: the page's own seeks whose
    // ``seeking`` event has not come yet; wanted: the UTC the page last put it on.
    const view = {cam: cam, video: v, caption: note, figure: fig, seg: null, loading: false,
                  run: false, seeks: 0, wanted: null};
    follow(view);
    return view;
  }

  // What the user does with a camera's own controls, told from what the page does by state,
  // not by timing: the page keeps ``view.run`` equal to what it asked of the video and counts
  // its own seeks, so a video that plays while the page wants it paused, pauses while the
  // page wants it playing, or reports a seek the page did not make, was moved by the user.
  // The browser's own moves cannot pass for the user's: loading a segment drops the events
  // still queued for the old one (and the page ignores a loading video's), the pause at a
  // video's end comes with ``ended``, and the page never plays an ended video (play() would
  // seek it back to its start).
  function follow(view) {
    const v = view.video;
    v.addEventListener("loadedmetadata", function () {
      if (!view.loading || v.readyState < 1) return;
      view.loading = false;
      setRate(v);
      place(view, nowUtc());  // the clock has moved on while the segment loaded: put it where it is now
    });
    v.addEventListener("seeking", function () {
      if (view.loading) return;
      if (view.seeks > 0) { view.seeks -= 1; return; }  // one of the page's own
      if (!footage || !view.seg) return;
      seek(footage.anchor_t + (view.seg.start + v.currentTime - footage.anchor_utc), view);
    });
    v.addEventListener("seeked", function () {
      if (view.loading || !view.seg) return;
      v.dataset.segment = view.seg.id;
      v.dataset.shownUtc = (view.seg.start + v.currentTime).toFixed(3);
      if (view.wanted !== null) v.dataset.wantedUtc = view.wanted.toFixed(3);
    });
    // No loading guard here: loading pauses without an event and drops the queued ones, and a
    // user may press play on a camera still loading.
    v.addEventListener("play", function () {
      if (!v.paused && !view.run) play();
    });
    v.addEventListener("pause", function () {
      if (playing && userPaused(view)) pause();
    });
    v.addEventListener("ratechange", function () {
      if (!view.loading && Math.abs(v.playbackRate - speed) > 1e-6) setSpeed(v.playbackRate);
    });
  }

  // Paused while the page wants it playing, and not by its end nor by a load: the user's pause.
  // Read from state on every frame too: a segment change drops the pause event still queued.
  function userPaused(view) {
    const v = view.video;
    return view.run && v.paused && !v.ended && !view.loading;
  }

  // The page's own moves of a video: each one keeps ``view`` telling what was asked.
  function run(view, yes) {
    const v = view.video;
    view.run = yes;
    if (!yes && !v.paused) v.pause();
    // An ended video is not played: play() would seek it to its start (a seek the page did
    // not count); it is re-placed first, and played on the next frame.
    if (yes && v.paused && !v.ended) v.play().catch(function () { /* a newer move took over */ });
  }
  function setTime(view, offset, utc) {
    const v = view.video;
    view.wanted = utc;
    if (!v.seekable.length) return;  // the browser would not seek (nor say so)
    view.seeks += 1;
    v.currentTime = offset;
  }
  function load(view, seg) {
    const v = view.video;
    view.seg = seg;
    view.loading = true;
    view.run = false;  // loading pauses the video (without a pause event)
    view.seeks = 0;    // and drops the events of the page's seeks still queued
    view.wanted = null;
    v.src = seg.url;
    v.dataset.segStart = seg.start;
  }
  // Put one camera where the clock is (UTC ``utc``): its segment, its moment, playing or not.
  function place(view, utc, fromView) {
    const v = view.video;
    const seg = view.cam.segments.find(function (s) { return s.start <= utc && utc < s.end; });
    view.caption.textContent = seg ? "" : " · " + d.tNoVideo;
    view.figure.classList.toggle("novideo", !seg);
    if (!seg) { run(view, false); return; }
    if (!view.seg || view.seg.id !== seg.id) { load(view, seg); return; }
    if (view.loading) return;
    const end = Math.max(0, (v.duration || seg.duration) - END);
    const offset = Math.min(utc - seg.start, end);
    if (!playing) {
      run(view, false);
      if (view === fromView) {  // it is already where the user put it
        view.wanted = utc;
        v.dataset.wantedUtc = v.dataset.shownUtc = utc.toFixed(3);
        return;
      }
      setTime(view, offset, utc);
      return;
    }
    setRate(v);
    // A segment just loaded is put on the clock; a seek under way (the page's or the user's)
    // is let finish: re-seeking now would make a user's move look like the page's.
    if (view.wanted === null || (!v.seeking && Math.abs(v.currentTime - offset) > DRIFT * Math.max(1, speed))) {
      setTime(view, offset, utc);
    }
    run(view, utc - seg.start < end);  // past the video's last picture it rests there
  }
  function showVideo(fromView) {
    if (!footage || footage.anchor_t === null) return;
    // Before any camera moves on (to a next segment, dropping its queued events): a camera the
    // user paused pauses the page.
    if (playing && footage.views.some(userPaused)) { pause(); return; }
    const utc = nowUtc();
    footage.views.forEach(function (view) { place(view, utc, fromView); });
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
    seek(data.start_t);
    // The footage list may come after the user has already moved the clock (a deduction clicked
    // while it loads): the cameras join the clock where it is, never pulling it back to the start.
    return loadVideo().then(function () { seek(now); box.dataset.loaded = "true"; });
  });
})();
