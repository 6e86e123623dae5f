// Cameras page: a recording alarm or a camera outage changes this page; reload it when the feed says so.
(function () {
  "use strict";
  const source = new EventSource("/live/stream");
  source.onmessage = function (msg) {
    const ev = JSON.parse(msg.data);
    if (ev.type === "video") { source.close(); window.location.reload(); }
  };
})();
