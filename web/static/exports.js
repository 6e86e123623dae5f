// The replay page's video exports: poll each unfinished job's status until it is done
// or failed, moving its progress bar, then reveal the download link.
(function () {
  "use strict";
  const POLL_MS = 1000;

  function show(item, job) {
    item.dataset.status = job.status;
    item.querySelector("progress").value = job.progress;
    item.querySelector(".state").textContent = job.state;
    item.querySelector(".error").textContent = job.error;
    const link = item.querySelector(".download");
    if (job.download) {
      link.href = job.download;
      link.hidden = false;
    }
  }

  function follow(item) {
    if (item.dataset.status === "done" || item.dataset.status === "failed") return;
    fetch(item.dataset.statusUrl, {headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (job) { show(item, job); })
      .catch(function () { /* the server is restarting: try again */ })
      .finally(function () { setTimeout(function () { follow(item); }, POLL_MS); });
  }

  document.querySelectorAll("#exports li.export").forEach(follow);
})();
