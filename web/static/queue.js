// Console queue panel: the open sittings' candidates in queue order, with call-up and start.
// The queue lives in the database, not in the live feed, so the panel asks for it every few
// seconds and at once after each action; a reload or a dropped connection loses nothing.
(function () {
  "use strict";
  const box = document.getElementById("queue");
  const course = document.getElementById("vehicles").dataset;  // CSRF token, may-act flag
  const t = box.dataset;
  const cols = JSON.parse(t.tCols);
  const REFRESH_MS = 3000;

  function el(tag, value, cls) {
    const node = document.createElement(tag);
    if (value !== undefined && value !== null) node.textContent = value;
    if (cls) node.className = cls;
    return node;
  }

  function post(url) {
    return fetch(url, {method: "POST", headers: {"X-CSRFToken": course.csrf, "Accept": "application/json"}})
      .then(function (r) { return r.json().catch(function () { return {ok: false, error: r.statusText}; }); })
      .then(function (answer) {
        if (!answer.ok) showError(answer.error);
        refresh();
      });
  }

  let error = "";
  function showError(message) { error = message || ""; }

  // Buttons carry their URL; one listener on the panel serves them all, so an update of the
  // panel (every few seconds) never takes a button away from under a click.
  function button(label, url, name) {
    const b = el("button", label);
    b.type = "button";
    b.dataset.action = name;
    b.dataset.key = name;
    b.dataset.url = url;
    return b;
  }
  box.addEventListener("click", function (e) {
    const b = e.target.closest("button[data-url]");
    if (!b || b.disabled) return;
    error = "";
    b.disabled = true;
    post(b.dataset.url);
  });

  function sittingBlock(s, vehicles) {
    const block = el("div", null, "sitting");
    block.dataset.sitting = s.id;
    block.dataset.key = "sitting-" + s.id;
    block.appendChild(el("h3", s.code + " · " + s.status_text + " · " + t.tFinished + " " + s.finished +
                                " · " + t.tBooked + " " + s.booked));
    if (course.canAct && s.status === "running") {
      const bar = el("div", null, "actions");
      vehicles.forEach(function (v) {
        const waits = s.entries.some(function (e) { return e.state === "checked_in" && e.vehicle_class === v.vehicle_class; });
        if (!waits) return;
        const b = bar.appendChild(button(t.tCall + " · " + v.plate + "（" + v.vehicle_class + "）",
                                         "/console/call/" + s.id + "/" + encodeURIComponent(v.id), "call-" + v.id));
        if (v.busy) {  // a vehicle with a candidate on it calls nobody until that attempt ends
          b.disabled = true;
          b.title = t.tBusy;
        }
      });
      block.appendChild(bar);
    }
    const table = el("table", null, "list");
    const head = table.appendChild(el("thead")).appendChild(el("tr"));
    cols.forEach(function (c) { head.appendChild(el("th", c)); });
    const body = table.appendChild(el("tbody"));
    s.entries.forEach(function (e) {
      const row = body.appendChild(el("tr", null, "st-" + e.state));
      row.dataset.booking = e.booking;
      row.dataset.key = "booking-" + e.booking;
      [e.queue_no, e.name, e.id, e.vehicle_class, e.state_text + (e.retest ? "（" + t.tRetest + "）" : ""), e.plate]
        .forEach(function (v) { row.appendChild(el("td", v)); });
      const cell = row.appendChild(el("td"));
      if (course.canAct && e.state === "called") cell.appendChild(button(t.tStart, "/console/start/" + e.booking, "start"));
    });
    if (!s.entries.length) {
      const cell = body.appendChild(el("tr")).appendChild(el("td", t.tEmpty));
      cell.colSpan = cols.length;
    }
    block.appendChild(table);
    return block;
  }

  function render(data) {
    const parts = [el("h2", t.tHeading)];
    if (error) parts.push(el("p", error, "flash error"));
    if (!data.sittings.length) parts.push(el("p", t.tNone));
    data.sittings.forEach(function (s) { parts.push(sittingBlock(s, data.vehicles)); });
    window.examroomMorph(box, parts);
  }

  let pending = null;
  function refresh() {
    if (pending) return pending;
    pending = fetch("/live/queue", {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () { /* the next tick tries again */ })
      .finally(function () { pending = null; });
    return pending;
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
  window.examroomQueueRefresh = refresh;  // live.js calls it when an attempt starts or ends
})();
