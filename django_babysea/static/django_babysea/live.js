/* Live status of generations on a page: each live placeholder (data-babysea-live="<token>")
   is replaced by its media once the copy is stored. Included by {% babysea_live_script %}.
   No dependency, no inline script, no eval: the only HTML inserted is what the site's status
   view rendered (escaped by Django's templates), parsed with a <template> element. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-babysea-status-url");
  if (!url || !window.fetch || window.BabySeaLive) { return; }

  // The admin's status pills use data-babysea-live too, with their own script.
  var SELECTOR = "[data-babysea-live]:not([data-babysea-status-url])";
  var MIN_DELAY = 1000, MAX_DELAY = 30000;
  var MAX_TOKENS = 50, MAX_QUERY = 3000;  // what the view accepts; what servers' URL limits allow
  var delay = MIN_DELAY, timer = null, busy = false, stopped = false, rescan = false;
  var etags = {};

  function tokens() {
    var seen = {}, list = [];
    document.querySelectorAll(SELECTOR).forEach(function (element) {
      var token = element.getAttribute("data-babysea-live");
      if (token && !seen[token]) { seen[token] = true; list.push(token); }
    });
    return list;
  }

  // One request per tick; more only when one URL would be too long for servers.
  function batches(list) {
    var all = [], batch = [], length = 0;
    list.forEach(function (token) {
      if (batch.length && (batch.length >= MAX_TOKENS || length + token.length > MAX_QUERY)) {
        all.push(batch); batch = []; length = 0;
      }
      batch.push(token); length += token.length + 1;
    });
    if (batch.length) { all.push(batch); }
    return all;
  }

  function ask(batch) {
    var query = url + (url.indexOf("?") < 0 ? "?" : "&") + "t=" +
      batch.map(encodeURIComponent).join(",");
    var headers = { "Accept": "application/json" };
    if (etags[query]) { headers["If-None-Match"] = etags[query]; }
    return fetch(query, { credentials: "same-origin", headers: headers, cache: "no-store" })
      .then(function (response) {
        if (response.status === 304) { return false; }
        if (!response.ok) {
          var error = new Error("babysea status " + response.status);
          error.status = response.status;
          throw error;
        }
        etags[query] = response.headers.get("ETag");
        return response.json().then(function (data) {
          (data.generations || []).slice(0, batch.length).forEach(function (entry, i) {
            if (entry && !entry.live) { settle(batch[i], entry); }
          });
          return true;
        });
      });
  }

  function fire(element, name, detail) {
    element.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
  }

  function settle(token, entry) {
    document.querySelectorAll(SELECTOR).forEach(function (element) {
      if (element.getAttribute("data-babysea-live") !== token) { return; }
      var detail = { id: entry.id, status: entry.status };
      var target = element;
      if (entry.html) {
        var template = document.createElement("template");
        template.innerHTML = entry.html;
        target = template.content.firstElementChild || element;
        element.replaceWith(template.content);
      } else {
        element.removeAttribute("data-babysea-live");
      }
      var media = target !== element && !target.classList.contains("babysea-placeholder");
      if (entry.status === "succeeded" && media) { fire(target, "babysea:stored", detail); }
      fire(target, "babysea:finished", detail);
    });
  }

  function tick() {
    timer = null;
    if (document.hidden) { return; }  // visibilitychange starts it again
    var list = tokens();
    if (!list.length) { return; }  // a placeholder added later starts it again
    busy = true; rescan = false;
    Promise.all(batches(list).map(ask)).then(function (changes) {
      busy = false;
      delay = rescan || changes.indexOf(true) >= 0 ? MIN_DELAY : Math.min(delay * 2, MAX_DELAY);
      schedule(delay);
    }, function (error) {
      busy = false;
      // A refused token (a new SECRET_KEY, a deleted route): asking again will not help.
      if (error.status >= 400 && error.status < 500) { stopped = true; return; }
      delay = MAX_DELAY;
      schedule(delay);
    });
  }

  function schedule(wait) {
    if (timer === null && !busy && !stopped) { timer = window.setTimeout(tick, wait); }
  }

  function scan() {
    stopped = false; delay = MIN_DELAY; rescan = true;
    if (timer !== null) { window.clearTimeout(timer); timer = null; }
    schedule(MIN_DELAY);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
    } else {
      delay = MIN_DELAY;
      schedule(0);
    }
  });

  new MutationObserver(function (records) {
    var added = records.some(function (record) {
      return Array.prototype.some.call(record.addedNodes, function (node) {
        return node.nodeType === 1 && (node.matches(SELECTOR) || node.querySelector(SELECTOR));
      });
    });
    if (added) { scan(); }
  }).observe(document.documentElement, { childList: true, subtree: true });

  window.BabySeaLive = { scan: scan };
  schedule(MIN_DELAY);
})();
