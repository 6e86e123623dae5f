// The city's live pictures: each camera's newest frame asked again once the last one arrived (or
// failed), about once a second, so a slow course link never queues requests.
"use strict";
(function () {
  const PERIOD_MS = 1000;
  for (const img of document.querySelectorAll("img.city-frame")) {
    const base = img.getAttribute("src");
    const next = () => setTimeout(() => { img.src = base + "?t=" + Date.now(); }, PERIOD_MS);
    img.addEventListener("load", next);
    img.addEventListener("error", next);
    if (img.complete) next();  // the first picture came before this script: its load event has passed
  }
})();
