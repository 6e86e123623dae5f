// The course plan in SVG, shared by the auditor's replay and the live console's course map:
// item zones, lines to scale, poles and bridge decks, in course metres (y points north, so
// it is negated for SVG). Pages add their own layers (a track, vehicles) with the same helpers.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";

  // Set only the attributes whose value differs: a live page calls this many times a
  // second, and an unchanged attribute must not touch the DOM.
  function set(node, attrs) {
    Object.keys(attrs).forEach(function (k) {
      const v = String(attrs[k]);
      if (node.getAttribute(k) !== v) node.setAttribute(k, v);
    });
    return node;
  }

  function el(parent, name, attrs) {
    const e = document.createElementNS(NS, name);
    set(e, attrs || {});
    parent.appendChild(e);
    return e;
  }

  // Course points -> an SVG points list.
  function points(list) { return list.map(function (p) { return p[0] + "," + (-p[1]); }).join(" "); }

  // Draw ``plan`` (examroom.coursetools.plan.plan_of) into ``svg``. With ``sensors``, every sensed
  // pole gets a ring the page colours by its switch's state. Answers the drawn elements:
  // {zones: {item id: polygon}, sensors: {element id: ring or deck}}.
  function draw(svg, plan, options) {
    const opts = options || {};
    const b = plan.bounds, m = opts.margin === undefined ? 2 : opts.margin;
    set(svg, {viewBox: [b[0] - m, -b[3] - m, b[2] - b[0] + 2 * m, b[3] - b[1] + 2 * m].join(" ")});
    const layer = el(svg, "g", {class: "plan"});
    const drawn = {zones: {}, sensors: {}};
    plan.items.forEach(function (item) {
      const zone = el(layer, "polygon", {points: points(item.zone), class: "zone"});
      zone.dataset.item = item.id;
      drawn.zones[item.id] = zone;
      if (item.slope) el(layer, "polygon", {points: points(item.slope), class: "slope"});
      item.lines.forEach(function (l) {
        el(layer, "polyline", {points: points(l.points), class: "line " + l.kind, "stroke-width": l.width});
      });
      item.decks.forEach(function (deck) {
        const d = el(layer, "polygon", {points: points(deck.polygon), class: "deck"});
        if (opts.sensors && deck.element) { d.dataset.element = deck.element; drawn.sensors[deck.element] = d; }
      });
      item.poles.forEach(function (p) {
        if (opts.sensors && p.element) {
          const ring = el(layer, "circle", {cx: p.x, cy: -p.y, r: opts.ring || 0.6, class: "sensor ring"});
          ring.dataset.element = p.element;
          drawn.sensors[p.element] = ring;
        }
        el(layer, "circle", {cx: p.x, cy: -p.y, r: Math.max(p.r, 0.08), class: "pole"});
      });
    });
    return drawn;
  }

  window.examroomCoursePlan = {NS: NS, set: set, el: el, points: points, draw: draw};
})();
