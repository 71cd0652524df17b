// The Generate tab of Wagtail's image chooser.
//
// Every image chooser modal is opened with window.IMAGE_CHOOSER_MODAL_ONLOAD_HANDLERS; its
// "choose" step (the modal's first page) is wrapped here to add a tab whose content the
// server renders. Choosing a finished image loads Wagtail's own "chosen" step for it into the
// modal, exactly as a click in the Search tab does, so the page's field is set by Wagtail.
"use strict";
(function () {
  const script = document.currentScript;
  if (!script) {
    return;
  }
  const panelUrl = script.dataset.panelUrl;
  const tabLabel = script.dataset.tabLabel || "Generate";
  const TAB_ID = "babysea-generate";
  // Where a prompt is drafted from: the page editor's title, then the first intro-like field.
  const TITLE_FIELDS = ["#id_title"];
  const INTRO_FIELDS = ["#id_intro", "#id_summary", "#id_introduction", "#id_search_description"];
  const POLL_START_MS = 1500;
  const POLL_MAX_MS = 8000;
  const POLL_GIVE_UP_MS = 15 * 60 * 1000;

  function element(body) {
    return body && body.jquery ? body[0] : body;
  }

  function firstValue(selectors) {
    for (const selector of selectors) {
      const field = document.querySelector(selector);
      if (field && field.value && field.value.trim()) {
        return field.value.trim();
      }
    }
    return "";
  }

  function preservedQuery(body) {
    // The chooser's own parameters (rich text asks for a format), as its upload form has them.
    const upload = body.querySelector("#tab-upload form");
    return upload ? new URL(upload.action, window.location.href).search : "";
  }

  function request(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" } }, options || {}));
  }

  function addTab(modal) {
    const body = element(modal.body);
    if (!body || body.querySelector("#tab-" + TAB_ID)) {
      return;
    }
    const tablist = body.querySelector("[role=tablist]");
    const content = body.querySelector(".tab-content");
    if (!tablist || !content) {
      return; // no tabs: the editor may not add images at all
    }
    const query = preservedQuery(body);
    request(panelUrl + query).then((response) => {
      if (!response.ok) {
        return null; // 403: this editor may not generate
      }
      return response.text();
    }).then((html) => {
      if (html === null || !body.isConnected) {
        return;
      }
      // The panel first: Wagtail's tabs controller wants a panel for every tab it sees.
      const panel = document.createElement("section");
      panel.id = "tab-" + TAB_ID;
      panel.className = "w-tabs__panel";
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", "tab-label-" + TAB_ID);
      panel.setAttribute("data-w-tabs-target", "panel");
      panel.hidden = true;
      content.appendChild(panel);
      const tab = document.createElement("a");
      tab.id = "tab-label-" + TAB_ID;
      tab.href = "#tab-" + TAB_ID;
      tab.className = "w-tabs__tab";
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-selected", "false");
      tab.setAttribute("tabindex", "-1");
      tab.setAttribute("data-action", "w-tabs#select:prevent");
      tab.setAttribute("data-w-tabs-target", "trigger");
      tab.textContent = tabLabel;
      tablist.appendChild(tab);
      show(panel, html, modal, query);
    });
  }

  function show(panel, html, modal, query) {
    panel.innerHTML = html;
    const form = panel.querySelector("[data-babysea-generate-form]");
    if (form) {
      wireForm(panel, form, modal, query);
    }
    const progress = panel.querySelector("[data-babysea-progress]");
    if (progress) {
      follow(panel, progress, modal, query);
    }
  }

  function reload(panel, modal, query, form) {
    const params = new URLSearchParams(query);
    if (form) {
      for (const [name, value] of new FormData(form)) {
        if (name !== "csrfmiddlewaretoken" && typeof value === "string") {
          params.set(name, value);
        }
      }
    }
    request(panelUrl + "?" + params.toString())
      .then((response) => (response.headers.get("X-BabySea-Fragment")
        ? response.text() : Promise.reject(response.status)))
      .then((html) => show(panel, html, modal, query))
      .catch(() => {
        const failed = panel.querySelector("[data-babysea-failed]");
        if (failed) {
          failed.hidden = false;
        }
      });
  }

  function wireForm(panel, form, modal, query) {
    const estimate = panel.querySelector("[data-babysea-estimate]");
    const model = form.querySelector("[name='babysea-model']");
    let timer = null;
    let pending = null;

    function refreshEstimate() {
      if (!estimate || !model) {
        return;
      }
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      const params = new URLSearchParams({ model: model.value });
      for (const name of ["generation_output_number", "generation_resolution"]) {
        const field = form.querySelector("[name='babysea-" + name + "']");
        if (field && field.value) {
          params.set(name, field.value);
        }
      }
      request(estimate.dataset.url + "?" + params.toString(), { signal: pending.signal })
        .then((response) => response.json())
        .then((data) => {
          estimate.textContent = data.text || "";
          estimate.classList.toggle("babysea-estimate--short",
            data.can_afford === false || Boolean(data.error));
        })
        .catch((error) => {
          if (error.name !== "AbortError") {
            estimate.textContent = "";
          }
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refreshEstimate, 400); // debounced: one ask per pause
    }

    form.addEventListener("change", (event) => {
      if (event.target === model) {
        reload(panel, modal, query, form); // another model accepts other fields
      } else {
        later();
      }
    });
    form.addEventListener("input", later);

    const draft = panel.querySelector("[data-babysea-draft]");
    if (draft) {
      draft.addEventListener("click", () => draftFromPage(form, panel));
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("[data-babysea-submit]");
      if (button) {
        button.disabled = true;
      }
      const failed = panel.querySelector("[data-babysea-failed]");
      request(form.action, { method: "POST", body: new FormData(form) })
        // The tab's own answers (the progress, or the form with its message) carry a header;
        // anything else (a server's or a proxy's error page) is not shown in the modal.
        .then((response) => (response.headers.get("X-BabySea-Fragment")
          ? response.text() : Promise.reject(response.status)))
        .then((html) => show(panel, html, modal, query))
        .catch(() => {
          if (button) {
            button.disabled = false;
          }
          if (failed) {
            failed.hidden = false;
          }
        });
    });
    refreshEstimate();
  }

  function draftFromPage(form, panel) {
    const title = firstValue(TITLE_FIELDS);
    const intro = firstValue(INTRO_FIELDS);
    const note = panel.querySelector("[data-babysea-draft-note]");
    if (!title && !intro) {
      if (note) {
        note.textContent = note.dataset.empty || "The page has no title or introduction yet.";
      }
      return;
    }
    const prompt = form.querySelector("[name='babysea-generation_prompt']");
    const parts = ["An editorial illustration"];
    if (title) {
      parts.push("for an article titled \u201c" + title + "\u201d");
    }
    let text = parts.join(" ");
    if (intro) {
      text += ". " + intro.replace(/[\s.!?;:,]+$/, "");
    }
    text += ". No text or lettering in the image.";
    prompt.value = text;
    prompt.dispatchEvent(new Event("input", { bubbles: true }));
    const imageTitle = form.querySelector("[name='babysea-title']");
    if (imageTitle && !imageTitle.value && title) {
      imageTitle.value = title;
    }
    if (note) {
      note.textContent = "";
    }
    prompt.focus();
  }

  function follow(panel, progress, modal, query) {
    const url = progress.dataset.statusUrl;
    const message = progress.querySelector("[data-babysea-message]");
    const started = Date.now();
    let wait = POLL_START_MS;

    const again = progress.querySelector("[data-babysea-again]");
    if (again) {
      again.addEventListener("click", (event) => {
        event.preventDefault();
        reload(panel, modal, query, null);
      });
    }

    function poll() {
      if (!progress.isConnected) {
        return; // the modal was closed or the tab reloaded
      }
      request(url, { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((data) => {
          message.textContent = data.message;
          if (data.image) {
            finished(progress, data.image, modal);
          } else if (data.done) {
            progress.classList.add("babysea-progress--failed");
            stopSpinner(progress);
          } else if (Date.now() - started < POLL_GIVE_UP_MS) {
            wait = Math.min(wait * 1.5, POLL_MAX_MS);
            window.setTimeout(poll, wait);
          }
        })
        .catch(() => {
          if (Date.now() - started < POLL_GIVE_UP_MS) {
            window.setTimeout(poll, POLL_MAX_MS);
          }
        });
    }
    window.setTimeout(poll, POLL_START_MS);
  }

  function stopSpinner(progress) {
    const spinner = progress.querySelector(".babysea-progress__spinner");
    if (spinner) {
      spinner.remove();
    }
  }

  function finished(progress, image, modal) {
    stopSpinner(progress);
    progress.classList.add("babysea-progress--done");
    const result = progress.querySelector("[data-babysea-result]");
    const preview = result.querySelector("[data-babysea-preview]");
    preview.src = image.preview.url;
    preview.width = image.preview.width;
    preview.height = image.preview.height;
    result.querySelector("[data-babysea-title]").textContent = image.title;
    const choose = result.querySelector("[data-babysea-choose]");
    choose.href = image.chosen_url;
    choose.addEventListener("click", (event) => {
      event.preventDefault();
      modal.loadUrl(image.chosen_url); // Wagtail's "chosen" step, as in the Search tab
    });
    result.hidden = false;
    choose.focus();
  }

  function patch(handlers) {
    if (!handlers || handlers.babyseaGenerateTab || typeof handlers.choose !== "function") {
      return Boolean(handlers && handlers.babyseaGenerateTab);
    }
    const choose = handlers.choose;
    handlers.choose = function (modal, jsonData) {
      choose.call(this, modal, jsonData);
      addTab(modal);
    };
    handlers.babyseaGenerateTab = true;
    return true;
  }

  if (!patch(window.IMAGE_CHOOSER_MODAL_ONLOAD_HANDLERS)) {
    // The chooser's script may come later in the page (deferred or in a block's media).
    document.addEventListener("DOMContentLoaded", () => {
      patch(window.IMAGE_CHOOSER_MODAL_ONLOAD_HANDLERS);
    });
  }
})();
