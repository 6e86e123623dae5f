// Follows the self-check while the walk-round goes on: ticks sensors and device states as the
// controller stores them (it writes the check whenever its outcome changes).
(function () {
  "use strict";
  const root = document.getElementById("selfcheck");
  if (!root) return;
  const texts = JSON.parse(root.dataset.texts);
  let lastOverride = null;

  function update(check) {
    if (!check) return;
    document.getElementById("updated").textContent = check.updated;
    document.getElementById("fired").textContent = check.report.sensors_fired;
    check.report.sensors.forEach(function (s) {
      const li = root.querySelector('li[data-element="' + CSS.escape(s.element) + '"]');
      if (!li) return;
      li.className = s.fired ? "ok" : "waiting";
      li.textContent = (s.fired ? "✓ " : "○ ") + s.element;
    });
    const rows = document.getElementById("devices").rows;
    check.report.devices.forEach(function (d, i) {
      if (!rows[i]) return;
      const cells = rows[i].cells;
      cells[2].textContent = d.port || "";
      cells[3].textContent = (d.rate === null ? "-" : d.rate) + " / " + d.expected_rate + " Hz";
      cells[4].textContent = d.fix_text || "";
      cells[5].textContent = d.ok ? texts.ok : d.problems.join("；");
      cells[5].className = d.ok ? "ok" : "bad";
    });
    const verdict = check.passed ? texts.passed : (check.override ? texts.overridden : texts.failed);
    document.getElementById("verdict").firstChild.textContent = verdict + " ";
    if ((check.passed || check.override) && lastOverride === false) window.location.reload();
    lastOverride = Boolean(check.passed || check.override);
  }

  function poll() {
    fetch(root.dataset.stateUrl).then(function (r) { return r.json(); }).then(update)
      .catch(function () {}).finally(function () { setTimeout(poll, 1500); });
  }
  poll();
})();
