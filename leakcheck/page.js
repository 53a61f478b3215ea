// The live report refreshes itself: every 2 seconds it fetches this same
// page and swaps in the new report, keeping open the stacks the reader
// opened. Pause stops it. Without JavaScript the page is complete as it is.
(function () {
  "use strict";
  var every = 2000;
  var paused = false;
  var timer = null;
  var auto = document.getElementById("auto");
  var pause = document.getElementById("pause");
  var status = document.getElementById("status");
  auto.hidden = false;

  function openKeys() {
    var keys = {};
    document.querySelectorAll("#report details[open]").forEach(function (d) {
      keys[d.dataset.key] = true;
    });
    return keys;
  }

  function swap(id, doc) {
    var next = doc.getElementById(id);
    var cur = document.getElementById(id);
    if (next && cur) {
      cur.replaceWith(document.adoptNode(next));
    }
  }

  function refresh() {
    timer = null;
    if (paused) {
      return;
    }
    fetch(location.href, { cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (resp) {
        if (!resp.ok) {
          throw new Error("HTTP " + resp.status);
        }
        return resp.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var open = openKeys();
        ["summary", "taken", "report"].forEach(function (id) { swap(id, doc); });
        document.title = doc.title;
        document.querySelectorAll("#report details").forEach(function (d) {
          if (open[d.dataset.key]) {
            d.open = true;
          }
        });
        status.textContent = "";
      })
      .catch(function (err) {
        status.textContent = "refresh failed (" + err.message + "); retrying";
      })
      .then(schedule);
  }

  function schedule() {
    if (!paused && timer === null) {
      timer = setTimeout(refresh, every);
    }
  }

  pause.addEventListener("click", function () {
    paused = !paused;
    pause.textContent = paused ? "resume" : "pause";
    if (paused && timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (!paused) {
      refresh();
    }
  });
  schedule();
})();
