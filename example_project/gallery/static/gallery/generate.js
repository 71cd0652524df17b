// The generate page: the model catalog, the estimate and the budget come from the REST API, and
// the form is sent to it with fetch(). The new generation's card (rendered by the site with
// {% babysea_media %}) is inserted into the page, and live.js swaps its placeholder for the
// image or video once the copy is stored. No framework, no inline script (CSP friendly).
(function () {
  "use strict";
  const form = document.getElementById("generate-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const model = $("id_model"), prompt = $("id_prompt"), ratio = $("id_ratio");
  const duration = $("id_duration"), resolution = $("id_resolution"), audio = $("id_audio");
  const submit = $("submit"), formError = $("form-error"), results = $("results");
  const urls = form.dataset;
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let catalog = new Map();
  let busy = false;
  // One key per intended generation: kept when the answer was lost (network error, 5xx) so the
  // retry is recognised by the API and nothing is generated twice; dropped after a definite one.
  let idempotencyKey = null;

  // randomUUID needs a secure context (https, localhost); the demo may be opened by IP address.
  const newKey = () => (crypto.randomUUID ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""));
  const credits = (value) => `${String(Number(value))} credits`;
  const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(body.detail || response.statusText), { body });
    return body;
  }

  function options(select, values, label) {
    select.replaceChildren(...values.map((value) => new Option(label ? label(value) : String(value), value)));
    select.closest(".field").hidden = values.length === 0;
  }

  function showModel() {
    const entry = catalog.get(model.value);
    const schema = (entry && entry.schema) || {};
    options(ratio, schema.generation_ratio || []);
    options(duration, entry && entry.kind === "video" ? schema.generation_duration || [] : [], (s) => `${s} s`);
    options(resolution, schema.generation_resolution || []);
    audio.closest(".field").hidden = !("generation_generate_audio" in schema);
    clearErrors();
    estimate();
  }

  async function loadModels() {
    try {
      const body = await getJSON(urls.modelsUrl);
      catalog = new Map(body.models.map((m) => [m.model_identifier, m]));
      const groups = ["image", "video"].map((kind) => {
        const group = document.createElement("optgroup");
        group.label = kind === "image" ? "Images" : "Videos";
        body.models.filter((m) => m.kind === kind)
          .forEach((m) => group.append(new Option(m.model_identifier, m.model_identifier)));
        return group;
      });
      model.replaceChildren(...groups);
      if (catalog.has("bfl/flux-schnell")) model.value = "bfl/flux-schnell";
      model.disabled = false;
      submit.disabled = false;
      showModel();
    } catch (error) {
      model.replaceChildren(new Option("No models available"));
      fail(`The model catalog could not be loaded: ${error.message}`);
    }
  }

  let estimateTimer = 0;
  function estimate() {
    clearTimeout(estimateTimer);
    estimateTimer = setTimeout(async () => {
      const query = new URLSearchParams({ model: model.value });
      if (!duration.closest(".field").hidden) query.set("duration", duration.value);
      if (!resolution.closest(".field").hidden) query.set("resolution", resolution.value);
      if (!audio.closest(".field").hidden) query.set("audio", audio.checked ? "true" : "false");
      try {
        const body = await getJSON(`${urls.estimateUrl}?${query}`);
        $("estimate").textContent = credits(body.cost_total_consumed);
      } catch (error) {
        $("estimate").textContent = "unavailable";
      }
    }, 250);
  }

  async function budget() {
    try {
      const body = await getJSON(urls.budgetUrl);
      $("budget").textContent = body.limit === null
        ? "no daily limit"
        : `${Number(body.remaining)} of ${credits(body.limit)} left`;
      $("budget-resets").textContent = body.limit === null ? "" : `resets at ${clock(body.resets_at)}`;
    } catch (error) {
      $("budget").textContent = "unavailable";
    }
  }

  function clearErrors() {
    formError.hidden = true;
    form.querySelectorAll(".errors").forEach((p) => { p.textContent = ""; });
  }

  function fail(message) {
    formError.textContent = message;
    formError.hidden = false;
  }

  function body() {
    const data = { model: model.value, generation_prompt: prompt.value.trim() };
    if (ratio.value) data.generation_ratio = ratio.value;
    if (!duration.closest(".field").hidden) data.generation_duration = Number(duration.value);
    if (!resolution.closest(".field").hidden) data.generation_resolution = resolution.value;
    if (!audio.closest(".field").hidden) data.generation_generate_audio = audio.checked;
    return data;
  }

  function explain(status, answer, response) {
    const errors = answer.errors || {};
    const unplaced = [];
    for (const [name, messages] of Object.entries(errors)) {
      const slot = form.querySelector(`.errors[data-for="${CSS.escape(name)}"]`);
      if (slot && !slot.closest("[hidden]")) slot.textContent = messages.join(" ");
      else unplaced.push(`${name}: ${messages.join(" ")}`);
    }
    if (status === 400 && !unplaced.length) return;
    let message = answer.detail || `The site answered ${status}.`;
    if (answer.code === "budget_exceeded" && answer.resets_at) {
      message = `Your budget for today is used up. It resets at ${clock(answer.resets_at)}.`;
    } else if (status === 429 && response.headers.get("Retry-After")) {
      message += ` Try again in ${response.headers.get("Retry-After")} s.`;
    } else if (status === 401 || status === 403) {
      message += " Sign in again to continue.";
    }
    fail([message, ...unplaced].join(" "));
  }

  async function insertCard(id) {
    if (results.querySelector(`[data-generation="${CSS.escape(id)}"]`)) return;
    const response = await fetch(urls.mediaUrl.replace("00000000-0000-0000-0000-000000000000", id),
      { credentials: "same-origin" });
    if (!response.ok) throw new Error(`the new generation could not be shown (${response.status})`);
    // The fragment is the site's own escaped markup; a <template> parses it without running it.
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    results.prepend(template.content);
    $("no-results").hidden = true;
  }

  async function send(event) {
    event.preventDefault();
    if (busy) return; // a double click sends one request
    clearErrors();
    if (!prompt.value.trim()) {
      form.querySelector('.errors[data-for="generation_prompt"]').textContent = "Type a prompt.";
      prompt.focus();
      return;
    }
    busy = true;
    submit.disabled = true;
    submit.textContent = "Sending…";
    idempotencyKey = idempotencyKey || newKey();
    try {
      const response = await fetch(urls.generationsUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrf,
          "Idempotency-Key": idempotencyKey,
        },
        body: JSON.stringify(body()),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status < 500) idempotencyKey = null;
      if (response.ok) await insertCard(answer.id);
      else explain(response.status, answer, response);
    } catch (error) {
      fail(`The request did not go through (${error.message}). Send it again: it will not be generated twice.`);
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = "Generate";
      budget();
    }
  }

  // A changed form is a new request: a kept key would make the API answer 409.
  form.addEventListener("input", () => { idempotencyKey = null; });
  model.addEventListener("change", showModel);
  [duration, resolution, audio].forEach((el) => el.addEventListener("change", estimate));
  form.addEventListener("submit", send);
  document.addEventListener("babysea:stored", budget);
  loadModels();
  budget();
})();
