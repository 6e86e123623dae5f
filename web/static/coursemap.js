// The console's live course map: the course plan (courseplan.js, shared with the replay)
// with every vehicle's outline, heading and plate where the controller last placed it, the
// item each is in, and each course sensor's state. It reads the feed events live.js receives
// (the "examroom:feed" document event), so the page keeps one event stream.
// Every element is made once and then only its changed attributes are set: the map updates
// several times a second and must not disturb anything else on the console.
(function () {
  "use strict";
  const box = document.getElementById("coursemap");
  if (!box) return;
  const P = window.examroomCoursePlan;
  const t = box.dataset;
  const svg = box.querySelector("svg");
  const vehicleList = box.querySelector(".map-vehicles");
  const sensorList = box.querySelector(".map-sensors");
  const vehicles = {};  // vehicle id -> its state from the feed (with .pose)
  const sensors = {};  // element id -> its sensor's state from the feed
  let plan = null, drawn = null, layer = null;
  const marks = {};  // vehicle id -> {group, outline, heading, label, title, li}
  const rows = {};  // element id -> its line in the sensor list
  const titles = {};  // item id -> its Chinese name
  const lost = {};  // vehicle id -> true while its GNSS receiver is reported dead (the outline is old)

  function text(node, value) { if (node.textContent !== value) node.textContent = value; }

  function mark(id) {
    if (marks[id]) return marks[id];
    const group = P.el(layer, "g", {class: "vehicle"});
    group.dataset.vehicle = id;
    const m = marks[id] = {
      group: group,
      outline: P.el(group, "polygon", {class: "outline", points: ""}),
      heading: P.el(group, "polyline", {class: "heading", points: ""}),
      label: P.el(group, "text", {"text-anchor": "middle"}),
      title: P.el(group, "title", {}),
      li: document.createElement("li"),
    };
    m.li.dataset.vehicle = id;
    vehicleList.appendChild(m.li);
    return m;
  }

  // The heading as an arrow from the antenna: degrees clockwise from north.
  function arrow(x, y, heading) {
    const r = heading * Math.PI / 180, L = 2.5, B = 0.8;
    const tip = [x + L * Math.sin(r), y + L * Math.cos(r)];
    const back = function (a) {
      return [tip[0] - B * Math.sin(r + a), tip[1] - B * Math.cos(r + a)];
    };
    return P.points([[x, y], tip, back(0.5), tip, back(-0.5)]);
  }

  function whereIs(v) {
    if (v.item) return v.item_text || titles[v.item] || v.item;  // the judge's item, while judged
    const zone = v.pose && v.pose.zone;
    return zone ? (titles[zone] || zone) : t.tOutside;
  }

  function drawVehicles() {
    const occupied = {};
    Object.keys(vehicles).sort().forEach(function (id) {
      const v = vehicles[id], pose = v.pose, m = mark(id);
      const name = v.plate || id;
      const cls = "vehicle st-" + (v.status || "idle") + (lost[id] ? " stale" : "");
      if (!pose) {
        P.set(m.group, {class: cls, visibility: "hidden"});
        text(m.li, name + " · " + t.tNoPose);
        return;
      }
      const item = v.item || pose.zone;
      if (item) occupied[item] = true;
      P.set(m.group, {class: cls, visibility: "visible"});
      P.set(m.outline, {points: pose.outline ? P.points(pose.outline) : ""});
      P.set(m.heading, {points: pose.heading === null ? "" : arrow(pose.x, pose.y, pose.heading)});
      P.set(m.label, {x: pose.x, y: -pose.y + 2.8});  // below: the item names sit above the zones
      text(m.label, name);
      const line = [name, lost[id] ? t.tLost : "", whereIs(v),
                    pose.heading === null ? "" : t.tHeading + " " + Math.round(pose.heading) + "°",
                    t.tSpeed.replace("{v}", (pose.speed * 3.6).toFixed(1))].filter(Boolean).join(" · ");
      text(m.title, line);
      text(m.li, line);
    });
    Object.keys(drawn.zones).forEach(function (id) {
      P.set(drawn.zones[id], {class: occupied[id] ? "zone occupied" : "zone"});
    });
  }

  function drawSensors() {
    plan.sensors.forEach(function (s) {
      const state = sensors[s.element];
      const on = state ? (state.active ? "on" : "off") : "unknown";
      const word = !state ? t.tUnknown : s.kind === "deck" ? (state.active ? t.tDeckOn : t.tDeckOff)
        : (state.active ? t.tPoleOn : t.tPoleOff);
      const node = drawn.sensors[s.element];
      if (node) P.set(node, {class: (s.kind === "deck" ? "deck sensor " : "sensor ring ") + on});
      const li = rows[s.element];
      P.set(li, {class: s.kind + " " + on});
      text(li, s.label + "：" + word);
    });
  }

  function update() {
    if (!drawn) return;
    drawVehicles();
    drawSensors();
  }

  fetch(t.plan).then(function (r) { return r.json(); }).then(function (json) {
    plan = json;
    plan.plan.items.forEach(function (item) { titles[item.id] = item.title; });
    drawn = P.draw(svg, plan.plan, {sensors: true});
    plan.plan.items.forEach(function (item) {  // each item's name above its zone's top-left corner
      const xs = item.zone.map(function (p) { return p[0]; }), ys = item.zone.map(function (p) { return p[1]; });
      const label = P.el(svg, "text", {class: "item-label", x: Math.min.apply(null, xs),
                                       y: -Math.max.apply(null, ys) - 0.6});
      label.textContent = item.title;
    });
    layer = P.el(svg, "g", {class: "vehicles"});
    plan.sensors.forEach(function (s) {
      const li = rows[s.element] = document.createElement("li");
      li.dataset.element = s.element;
      sensorList.appendChild(li);
    });
    update();
    box.dataset.ready = "1";
  });

  document.addEventListener("examroom:feed", function (e) {
    const ev = e.detail;
    if (ev.type === "state") {
      Object.keys(vehicles).forEach(function (k) { delete vehicles[k]; });
      Object.assign(vehicles, ev.vehicles || {});
      Object.keys(sensors).forEach(function (k) { delete sensors[k]; });
      Object.assign(sensors, ev.sensors || {});
    } else if (ev.type === "health") {  // the device monitor's report: whose receiver is down
      Object.keys(lost).forEach(function (k) { delete lost[k]; });
      (ev.devices || []).forEach(function (d) {
        if (d.vehicle && d.kind === "gnss" && !d.alive) lost[d.vehicle] = true;
      });
    } else {
      if (ev.vehicle_state) vehicles[ev.vehicle_state.vehicle] = ev.vehicle_state;
      if (ev.sensor_state) sensors[ev.sensor_state.element] = ev.sensor_state;
    }
    update();
  });
})();
