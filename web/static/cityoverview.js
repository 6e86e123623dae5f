// The city overview keeps itself current: its rows are asked again a while after the last answer
// arrived (never queued behind a slow sample) and morphed into place (morph.js), so nothing flickers
// and a course going offline shows without a reload. A failed ask shows the rows are stale.
"use strict";
(function () {
  const live = document.getElementById("city-live");
  const stale = document.getElementById("city-stale");
  if (!live) return;
  const url = live.getAttribute("data-rows");
  const period = parseInt(live.getAttribute("data-period-ms"), 10) || 10000;

  function next() { setTimeout(ask, period); }

  function ask() {
    // A request the network swallowed must not end the refreshing: it is given up after a while.
    const giveUp = new AbortController();
    const timer = setTimeout(function () { giveUp.abort(); }, Math.max(30000, 3 * period));
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" },
                 signal: giveUp.signal })
      .finally(function () { clearTimeout(timer); })
      .then(function (response) {
        // Signed out meanwhile: the answer is the sign-in page, not rows. Say so and stop asking.
        if (response.redirected) { stale.hidden = false; return null; }
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        const fresh = document.createElement("template");
        fresh.innerHTML = html;
        window.examroomMorph(live, Array.from(fresh.content.childNodes));
        stale.hidden = true;
        next();
      })
      .catch(function () {
        stale.hidden = false;
        next();
      });
  }
  next();
})();
