// A recording alarm or a camera outage changes the cameras page: reload it when the feed says so.
// Kept out of the template so the Content-Security-Policy can forbid inline script.
(function () {
  var source = new EventSource("/live/stream");
  source.onmessage = function (msg) {
    var ev = JSON.parse(msg.data);
    if (ev.type === "video") { source.close(); window.location.reload(); }
  };
})();
