// Live course page: renders each vehicle card from the controller's feed.
// Every event carries the vehicle's full state, so a dropped connection or a
// reload only needs the next event (or the initial "state" event) to be right.
(function () {
  "use strict";
  const box = document.getElementById("vehicles");
  const link = document.getElementById("link");
  const t = box.dataset;
  const vehicles = {};
  const cameras = JSON.parse(t.cameras || "{}");
  const health = {};  // vehicle -> [device status], from the controller's health events
  const identity = {};  // vehicle -> the newest in-cab face warning (a run of 1:1 mismatches) of its attempt

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  // Each card is made once and its body morphed on every event (see morph.js): the camera
  // picture, a live MJPEG stream, is never reconnected, and the action buttons stay the same
  // elements, so a click that spans an update still lands.
  const cards = {};
  function card(v) {
    let article = cards[v.vehicle];
    if (!article) {
      article = cards[v.vehicle] = document.createElement("article");
      article.className = "card";
      article.id = "vehicle-" + v.vehicle;
      article.dataset.vehicle = v.vehicle;
      article.appendChild(document.createElement("div")).className = "body";
      // The vehicle's own cameras (in its cab, following it), as the site file places them.
      (cameras[v.vehicle] || []).forEach(function (cam) {
        const img = document.createElement("img");
        img.className = "camera";
        img.alt = (v.plate || v.vehicle) + " " + cam.title;
        img.title = cam.title;
        img.dataset.camera = cam.camera;
        img.dataset.src = cam.src;
        img.addEventListener("error", function () { reconnect(img, 2000); });
        img.src = cam.src;
        article.appendChild(img);
      });
    }
    article.dataset.attempt = v.attempt || "";
    article.dataset.status = v.status || "";
    window.examroomMorph(article.querySelector(".body"), body(v));
    return article;
  }

  function body(v) {
    const parts = [];
    parts.push(text("h2", (v.plate || v.vehicle) + " · " + (v.vehicle_class || "")));
    // The buttons come first: lines added below (a deduction, a device) never move them under a pointer.
    const actions = v.status === "running" ? [["stop", t.tStop], ["manual_fail", t.tManual], ["device_fault", t.tFault]]
      : v.status === "suspended" ? [["resume", t.tResume], ["rerun", t.tRerun], ["stop", t.tEnd]] : [];
    if (t.canAct && actions.length) {
      const bar = document.createElement("div");
      bar.className = "actions";
      actions.forEach(function (pair) {
        const b = text("button", pair[1]);
        b.type = "button";
        b.dataset.action = pair[0];
        b.dataset.key = pair[0];
        bar.appendChild(b);
      });
      parts.push(bar);
    }
    parts.push(text("div", t.tCandidate + ": " + (v.candidate || "—")));
    const warning = identity[v.vehicle];
    if (warning && v.attempt && warning.attempt === v.attempt) {  // for the auditor too; the score is untouched
      parts.push(text("div", t.tIdentity.replace("{n}", warning.frames), "identity-warning"));
    }
    parts.push(text("div", t.tItem + ": " + (v.item_text || "—")));
    const devices = health[v.vehicle] || [];
    const kinds = JSON.parse(t.kinds || "{}");
    const line = devices.map(function (d) {
      return (kinds[d.kind] || d.kind) + " " + (d.kind === "gnss" && d.fix_text ? d.fix_text : d.line_text || (d.alive ? "✓" : "✗"));
    }).join(" · ");
    const healthLine = text("div", t.tDevices + ": " + (line || "—"),
      devices.every(function (d) { return d.alive; }) ? "health ok" : "health bad");
    healthLine.title = devices.map(function (d) { return d.device; }).join(" · ");  // device ids, for the technician
    parts.push(healthLine);
    parts.push(text("div", v.status_text || "", "status st-" + (v.status || "")));
    parts.push(text("div", String(v.score ?? "—"), "score"));
    const list = document.createElement("ul");
    list.className = "deductions";
    (v.deductions || []).forEach(function (d) {
      const what = d.disqualify ? t.tFail : t.tPoints.replace("{n}", d.points);
      list.appendChild(text("li", d.title + " — " + what, d.disqualify ? "dq" : ""));
    });
    if (!list.children.length) list.appendChild(text("li", t.tNone));
    parts.push(list);
    if (v.attempt) {
      const a = text("a", t.tResult);
      a.href = "/attempts/" + v.attempt;
      parts.push(a);
    }
    return parts;
  }

  // One listener for every card's buttons: it outlives any update of the cards.
  box.addEventListener("click", function (e) {
    const b = e.target.closest("button[data-action]");
    const article = b && b.closest("article.card");
    if (!article) return;
    act(article.dataset.vehicle, b.dataset.action, b.textContent);
  });

  // A camera's live picture is one long MJPEG response: when the camera or the controller
  // drops it, ask again (after a pause, so a dead camera is not hammered) with a fresh URL.
  function reconnect(img, delay) {
    if (img.dataset.retry) return;
    img.dataset.retry = "1";
    setTimeout(function () {
      delete img.dataset.retry;
      img.src = img.dataset.src + "?reconnect=" + Date.now();
    }, delay);
  }

  // A supervisor's action: a reason is always asked for; a manual fail also names the rule.
  // The dialog lives outside the cards, so no update of the cards can close it; a page
  // reload the feed asks for waits until the dialog is closed.
  const dialog = document.getElementById("act");
  const form = document.getElementById("act-form");
  const ruleBox = document.getElementById("act-rule");
  const errorBox = document.getElementById("act-error");
  const ok = document.getElementById("act-ok");
  function act(vehicle, action, title) {
    const v = vehicles[vehicle] || {};
    dialog.dataset.vehicle = vehicle;
    dialog.dataset.action = action;
    document.getElementById("act-title").textContent = title;
    document.getElementById("act-who").textContent =
      [v.plate || vehicle, v.candidate || ""].filter(Boolean).join(" · ");
    document.getElementById("act-reason").value = "";
    document.getElementById("act-rule-label").hidden = action !== "manual_fail";
    errorBox.hidden = true;
    ok.disabled = false;
    ruleBox.replaceChildren();
    if (action === "manual_fail") {
      fetch("/console/" + encodeURIComponent(vehicle) + "/manual-rules").then(function (r) { return r.json(); })
        .then(function (data) {
          (data.rules || []).forEach(function (r) {
            const o = text("option", r.title);
            o.value = r.id;
            ruleBox.appendChild(o);
          });
        });
    }
    dialog.showModal();
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const vehicle = dialog.dataset.vehicle, action = dialog.dataset.action;
    const body = new URLSearchParams(new FormData(form));
    ok.disabled = true;  // one confirmation, one command
    fetch("/console/" + encodeURIComponent(vehicle) + "/" + action,
          {method: "POST", body: body, headers: {"X-CSRFToken": t.csrf, "Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.ok) { dialog.close(); return; }
        errorBox.textContent = answer.error;
        errorBox.hidden = false;
        ok.disabled = false;
      })
      .catch(function () { errorBox.textContent = t.tOffline; errorBox.hidden = false; ok.disabled = false; });
  });
  document.getElementById("act-cancel").addEventListener("click", function () { dialog.close(); });
  let reloadWanted = false;
  function reloadSoon() {
    if (dialog.open) reloadWanted = true;
    else window.location.reload();
  }
  dialog.addEventListener("close", function () { if (reloadWanted) window.location.reload(); });

  function render() {
    const ids = Object.keys(vehicles).sort();
    Array.from(box.children).forEach(function (child) {  // the empty note, or a vehicle gone
      if (!child.id || !vehicles[child.id.replace("vehicle-", "")]) child.remove();
    });
    if (!ids.length) box.appendChild(text("p", t.empty));
    ids.forEach(function (id) {
      const c = card(vehicles[id]);
      if (c.parentNode !== box) box.appendChild(c);  // existing cards stay where they are
    });
  }

  function speak(message) {
    if (!("speechSynthesis" in window) || !message) return;
    const u = new SpeechSynthesisUtterance(message);
    u.lang = "zh-CN";
    window.speechSynthesis.speak(u);
  }

  function connect() {
    const source = new EventSource("/live/stream");
    source.onopen = function () { link.textContent = "●"; link.className = "link up"; };
    source.onerror = function () { link.textContent = "…"; link.className = "link down"; };
    source.addEventListener("resync", function () { source.close(); reloadSoon(); });
    source.onmessage = function (msg) {
      const ev = JSON.parse(msg.data);
      document.dispatchEvent(new CustomEvent("examroom:feed", {detail: ev}));  // the course map's input
      // The recording disk alarm is a banner of the page itself: reload to show or clear it.
      if (ev.type === "video" && (ev.event === "disk_alarm" || ev.event === "disk_ok")) {
        source.close();
        reloadSoon();
        return;
      }
      if (ev.type === "video" && ev.event === "gap_ended") {  // the camera is back: pick its stream up again
        document.querySelectorAll("img.camera").forEach(function (img) {
          if (img.dataset.camera === ev.camera) reconnect(img, 0);
        });
        return;
      }
      if (ev.type === "identity") {  // the face watch: the rider is not the person who booked
        identity[ev.vehicle] = ev;
        speak(t.tIdentitySpoken);
      } else if (ev.type === "health") {
        Object.keys(health).forEach(function (k) { delete health[k]; });
        (ev.devices || []).forEach(function (d) {
          if (!d.vehicle) return;
          (health[d.vehicle] = health[d.vehicle] || []).push(d);
        });
      } else if (ev.type === "state") {
        Object.keys(vehicles).forEach(function (k) { delete vehicles[k]; });
        Object.assign(vehicles, ev.vehicles);
      } else if (ev.vehicle_state) {
        vehicles[ev.vehicle_state.vehicle] = ev.vehicle_state;
        if (ev.announce) speak(ev.announce);
        if ((ev.type === "started" || ev.type === "finished") && window.examroomQueueRefresh) {
          window.examroomQueueRefresh();
        }
      }
      render();
    };
  }
  render();
  connect();
})();
