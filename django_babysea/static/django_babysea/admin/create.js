// The create page: show BabySea's estimate and balance for the chosen fields, and keep a
// second click from posting the form again (the server refuses a duplicate anyway).
"use strict";
(function () {
  const form = document.getElementById("babysea-create-form");
  const output = document.getElementById("babysea-estimate");
  if (!form || !output) {
    return;
  }
  const priced = ["generation_duration", "generation_resolution", "generation_generate_audio",
    "generation_output_number"];
  let pending = null;

  function query() {
    const params = new URLSearchParams({ model: output.dataset.model });
    for (const name of priced) {
      const field = form.elements.namedItem(name);
      if (!field) {
        continue;
      }
      if (field.type === "checkbox") {
        params.set(name, field.checked ? "true" : "false");
      } else if (field.value) {
        params.set(name, field.value);
      }
    }
    return params;
  }

  function refresh() {
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    const url = output.dataset.estimateUrl + "?" + query().toString();
    fetch(url, { credentials: "same-origin", signal: pending.signal,
                 headers: { Accept: "application/json" } })
      .then((response) => response.json())
      .then((data) => {
        output.textContent = data.text || "";
        output.classList.toggle("babysea-estimate-short", data.can_afford === false || !!data.error);
      })
      .catch((error) => {
        if (error.name !== "AbortError") {
          output.textContent = "";
        }
      });
  }

  form.addEventListener("change", (event) => {
    if (priced.includes(event.target.name)) {
      refresh();
    }
  });
  form.addEventListener("submit", () => {
    for (const button of form.querySelectorAll("[type=submit]")) {
      button.disabled = true;
    }
  });
  refresh();
})();
