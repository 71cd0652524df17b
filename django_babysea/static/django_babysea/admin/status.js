/* Live status of unfinished generations in the admin: polls the admin's JSON status view and
   updates each status pill in place. No framework; started from the page's own markup
   (elements with data-babysea-live and data-babysea-status-url), so it needs no inline script.
   A template tag's placeholder carries data-babysea-live without a status URL: live.js's. */
(function () {
  "use strict";
  var INTERVAL = 4000;
  var MAX_INTERVAL = 30000;
  var etag = null;
  var delay = INTERVAL;

  function livePills() {
    var selector = "[data-babysea-live][data-babysea-status-url]";
    return Array.prototype.slice.call(document.querySelectorAll(selector));
  }

  function update(pills, generations) {
    pills.forEach(function (pill) {
      var found = generations[pill.getAttribute("data-babysea-live")];
      if (!found) { return; }
      pill.className = "babysea-pill babysea-pill--" + found.status;
      pill.textContent = found.label;
      if (found.terminal) {
        pill.removeAttribute("data-babysea-live");
        pill.classList.add("babysea-pill--changed");
        pill.title = pill.getAttribute("data-babysea-reload") || "";
      }
    });
  }

  function poll() {
    var pills = livePills();
    if (!pills.length) { return; }
    if (document.hidden) { schedule(); return; }
    var url = pills[0].getAttribute("data-babysea-status-url");
    var ids = pills.map(function (pill) { return pill.getAttribute("data-babysea-live"); });
    var headers = { "Accept": "application/json" };
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(url + "?ids=" + encodeURIComponent(ids.join(",")), {
      credentials: "same-origin", headers: headers, cache: "no-cache"
    }).then(function (response) {
      if (response.status === 304) {
        delay = Math.min(delay * 1.5, MAX_INTERVAL);
        return null;
      }
      if (!response.ok) { throw new Error("status " + response.status); }
      etag = response.headers.get("ETag");
      delay = INTERVAL;
      return response.json();
    }).then(function (data) {
      if (data && data.generations) { update(pills, data.generations); }
      schedule();
    }).catch(function () {
      delay = MAX_INTERVAL;
      schedule();
    });
  }

  function schedule() { window.setTimeout(poll, delay); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", schedule);
  } else {
    schedule();
  }
})();
