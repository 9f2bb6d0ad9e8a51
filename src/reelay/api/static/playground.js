// Reelay playground: the public API from a browser, nothing else. No build step, no dependencies.
// Models and their rules from GET /v1/models; a dry run (POST /v1/videos?dryRun=true) shows what will run
// before anything is spent; POST /v1/videos; live progress from GET /v1/videos/{id}/events; play
// output.url (a signed link: no key needed); recent videos from GET /v1/videos, kept in this browser.

import { api, apiKey, follow, finished, KEY_STORAGE } from "./api.js";
import * as gallery from "./gallery.js";
import * as snippets from "./snippets.js";

const $ = (id) => document.getElementById(id);
const THEME_STORAGE = "reelay.theme";
let models = [];
let stopFollowing = () => {};
let current = null;        // the video on screen
let sentCall = null;       // {fields, file, response} of the job on screen, when this page created it
let started = 0;          // when this page submitted the job it is watching (0: picked from the gallery)
let watchedId = null;
let endedAt = 0;
let previewTimer = null;
let previewSerial = 0;
let codeTab = "curl";

// ---- status, errors, notices -----------------------------------------------------------------------

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

function setStatus(text, percent, className = "") {
  $("status").textContent = text;
  $("status").className = className;
  $("percent").textContent = percent === null ? "" : `${percent}%`;
  $("progress").value = percent || 0;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function markInvalid(param, message) {
  for (const input of document.querySelectorAll("#generate-form [aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const old of document.querySelectorAll("#generate-form .field-error")) old.remove();
  const field = { size: "size", seconds: "seconds", n: "n", seed: "seed", prompt: "prompt", model: "model",
    aspect_ratio: "aspect", resolution: "resolution", input_reference: "media", input_video: "media" }[param];
  if (!field || !message) return;
  const input = $(field);
  input.setAttribute("aria-invalid", "true");
  const note = document.createElement("p");
  note.className = "field-error error";
  note.id = `${field}-error`;
  note.textContent = message;
  input.insertAdjacentElement("afterend", note);
  input.setAttribute("aria-describedby", note.id);
}

// ---- models and the form's rules --------------------------------------------------------------------

async function loadModels() {
  const { body } = await api("/v1/models");
  models = body.data;
  const select = $("model");
  const keep = select.value;
  select.replaceChildren();
  const sorted = [...models].sort((a, b) => Number(b.available) - Number(a.available) || a.id.localeCompare(b.id));
  for (const model of sorted) {
    const label = model.available ? model.id : `${model.id} (not configured)`;
    const option = new Option(label, model.id);
    option.disabled = !model.available;
    select.append(option);
  }
  const preferred = sorted.find((m) => m.id === keep && m.available)
    || sorted.find((m) => m.id === "reelay-local" && m.available) || sorted.find((m) => m.available);
  if (preferred) select.value = preferred.id;
  applyModelRules();
}

const selectedModel = () => models.find((m) => m.id === $("model").value);

function allowedSeconds(caps) {
  const rule = caps.seconds || {};
  if (Array.isArray(rule.values) && rule.values.length) return rule.values;
  const min = Number(rule.min ?? 1), max = Number(rule.max ?? 20), step = Number(rule.step || 1);
  const values = [];
  for (let s = min; s <= max + 1e-9 && values.length < 120; s += step) values.push(Number(s.toFixed(2)));
  return values;
}

function nearest(values, wanted) {
  return values.reduce((best, v) => (Math.abs(v - wanted) < Math.abs(best - wanted) ? v : best), values[0]);
}

function fillSelect(select, values, keep, blank) {
  select.replaceChildren(...(blank ? [new Option(blank, "")] : []), ...values.map((v) => new Option(String(v), String(v))));
  if (values.map(String).includes(keep)) select.value = keep;
}

// A model switch moves every field into the new model's range (as the API would) instead of leaving it invalid.
function applyModelRules() {
  const model = selectedModel();
  if (!model) return;
  const caps = model.capabilities || {};
  const sizes = new Set();
  for (const byRatio of Object.values(caps.sizes || {})) for (const size of Object.values(byRatio)) sizes.add(size);
  $("sizes").replaceChildren(...[...sizes].map((size) => new Option(size, size)));
  const seconds = allowedSeconds(caps);
  const wanted = Number($("seconds").value || caps.seconds?.default || seconds[0]);
  fillSelect($("seconds"), seconds, String(nearest(seconds, wanted)));
  const n = caps.n || { max: 1 };
  $("n").max = n.max;
  if (Number($("n").value) > n.max) $("n").value = n.max;
  fillSelect($("aspect"), caps.aspect_ratios || [], $("aspect").value, "from size");
  fillSelect($("resolution"), caps.resolutions || [], $("resolution").value, "from size");
  describeModel(model, caps);
  schedulePreview();
}

function describeModel(model, caps) {
  const local = model.served_by === "local";
  const demo = local && model.id !== "reelay-local";
  const price = caps.pricing && caps.pricing.per_second ? `$${caps.pricing.per_second}/s` : "free";
  const modes = (caps.modes || []).join(", ");
  let text;
  if (!model.available) {
    text = `${model.display_name || model.id}: not configured on this server. ${model.description || ""}`;
  } else if (model.id === "reelay-local") {
    text = `Built-in local engine · procedural preview, not a learned model · ${modes} · free`;
  } else if (demo) {
    text = `Demo mode: rendered free by the local engine (a procedural preview), with ${model.id}'s rules `
      + `(${modes}). The real ${model.id} needs its provider key.`;
  } else {
    text = `${model.kind || caps.kind} model · ${modes} · ${price} · served by ${model.served_by}`;
  }
  if ((caps.modes || []).every((m) => m !== "t2v")) text += " · needs an image or video";
  $("model-info").textContent = text;
}

// ---- the request ------------------------------------------------------------------------------------

function requestFields() {
  const fields = { model: $("model").value, prompt: $("prompt").value };
  if ($("size").value.trim()) fields.size = $("size").value.trim();
  if ($("seconds").value) fields.seconds = $("seconds").value;
  if (Number($("n").value) > 1) fields.n = String(Number($("n").value));
  if ($("aspect").value) fields.aspect_ratio = $("aspect").value;
  if ($("resolution").value) fields.resolution = $("resolution").value;
  if ($("seed").value !== "") fields.seed = String(Number($("seed").value));
  return fields;
}

function chosenFile() {
  const file = $("media").files[0];
  if (!file) return null;
  return { field: file.type.startsWith("video/") ? "input_video" : "input_reference", name: file.name, file };
}

function requestForm(fields, file) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  if (file) form.append(file.field, file.file, file.name);
  return form;
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, 350);
}

// What the server will really run (size, seconds, n, provider, cost) and every conversion, before submitting.
async function preview() {
  const serial = ++previewSerial;
  const fields = requestFields();
  if (!fields.prompt.trim()) fields.prompt = "preview";
  try {
    const { body } = await api("/v1/videos?dryRun=true", { method: "POST", body: requestForm(fields, chosenFile()) });
    if (serial !== previewSerial) return;
    markInvalid(null);
    const changed = body.normalization.filter((item) => !["passthrough", "renamed"].includes(item.behaviour)
      && item.requested !== null && item.requested !== undefined && item.param !== "prompt");
    const free = body.provider === "local";
    const real = body.cost_estimate ? `; ${body.model} itself would cost about ${money(body.cost_estimate)}` : "";
    const cost = free ? `free on the local engine${real}` : `about ${money(body.cost_estimate)}`;
    let text = `${body.n} × ${body.seconds} s at ${body.size} on ${body.provider}; ${cost}.`;
    if (changed.length) text += ` Adjusted: ${changed.map((i) => `${i.param}: ${i.note.replace(/[.\s]+$/, "")}`).join("; ")}.`;
    $("preview-text").textContent = text;
    $("preview-text").className = changed.length ? "hint changed" : "hint";
  } catch (error) {
    if (serial !== previewSerial) return;
    $("preview-text").textContent = `Will not run as it is: ${error.message}`;
    $("preview-text").className = "hint error";
    markInvalid(error.param, error.message);
  }
}

// ---- a job on screen -------------------------------------------------------------------------------

function clearResult(statusText = "idle") {
  stopFollowing();
  stopFollowing = () => {};
  showError("");
  $("connection").hidden = true;
  setStatus(statusText, null);
  $("elapsed").textContent = "";
  $("player").hidden = true;
  $("player").removeAttribute("src");
  $("player").removeAttribute("poster");
  $("results").replaceChildren();
  $("report-box").hidden = true;
  $("cost").textContent = "";
  $("honesty").hidden = true;
  $("job-actions").hidden = true;
  $("video-id-line").hidden = true;
  $("call").hidden = true;
  delete $("job").dataset.status;
  delete $("job").dataset.videoId;
  current = null;
}

async function submit(event) {
  event.preventDefault();
  notice("");
  if (!$("prompt").value.trim()) {
    markInvalid("prompt", "Write a prompt first.");
    $("prompt").focus();
    return;
  }
  clearResult("submitting…");
  sentCall = null;
  const fields = requestFields();
  const file = chosenFile();
  $("submit").disabled = true;
  $("job").scrollIntoView({ behavior: "smooth", block: "start" });
  try {
    const { body } = await api("/v1/videos", { method: "POST", body: requestForm(fields, file) });
    sentCall = { id: body.id, fields, file: file && { field: file.field, name: file.name }, response: body };
    started = Date.now();
    watch(body);
  } catch (error) {
    setStatus("not submitted", null, "status-failed");
    showError(error.message);
    markInvalid(error.param, error.message);
  } finally {
    $("submit").disabled = false;
  }
}

function watch(video) {
  stopFollowing();
  if (watchedId !== video.id) endedAt = 0;
  watchedId = video.id;
  showVideo(video);
  gallery.upsert(video);
  gallery.select(video.id);
  if (finished(video)) return;
  stopFollowing = follow(video.id, {
    onVideo: (next) => {
      showVideo(next);
      if (finished(next)) gallery.upsert(next);
    },
    onConnection: (text) => {
      $("connection").textContent = text;
      $("connection").hidden = !text;
    },
  });
}

function showVideo(video) {
  current = video;
  const job = $("job");
  job.dataset.videoId = video.id;
  job.dataset.status = video.status;
  setStatus(video.status.replace("_", " "), video.progress || 0, `status-${video.status}`);
  if (started && watchedId === video.id) {
    if (finished(video) && !endedAt) endedAt = Date.now();
    $("elapsed").textContent = `${(((endedAt || Date.now()) - started) / 1000).toFixed(1)} s`;
  } else {
    $("elapsed").textContent = video.completed_at ? `took ${video.completed_at - video.created_at} s` : "";
  }
  $("video-id").textContent = video.id;
  $("video-id-line").hidden = false;
  $("job-actions").hidden = false;
  $("cancel").hidden = finished(video);
  $("remix").hidden = video.status !== "completed";
  const metadata = video.metadata || {};
  $("honesty").hidden = metadata.provider !== "local";
  showCost(video, metadata);
  showReport(metadata.normalization);
  showError(["failed", "cancelled"].includes(video.status) && video.error
    ? `${video.error.code}: ${video.error.message}` : "");
  if (video.status === "completed" && video.output) showOutput(video);
  showCall(video);
}

function showCost(video, metadata) {
  if (metadata.cost_estimate === undefined) return;
  const where = `provider ${metadata.provider} · model ${metadata.executed_model}`;
  if (metadata.provider === "local") {
    const real = metadata.cost_estimate ? `; ${video.model} itself would cost about ${money(metadata.cost_estimate)}` : "";
    $("cost").textContent = `Cost: free, rendered on the local engine (${where})${real}`;
  } else {
    const label = finished(video) ? "Estimated cost" : "Cost estimate";
    $("cost").textContent = `${label}: ${money(metadata.cost_estimate)} · ${where}`;
  }
}

function showOutput(video) {
  const output = video.output;
  const player = $("player");
  if (player.getAttribute("src") !== output.url) {
    player.src = output.url;
    player.poster = output.thumbnail_url || "";
    player.hidden = false;
    player.play().catch(() => {});  // autoplay may be refused; the controls still work
  }
  $("results").replaceChildren(...output.results.map((result) => {
    const item = document.createElement("li");
    const play = document.createElement("button");
    play.type = "button";
    play.className = "secondary small";
    play.textContent = `Play video ${result.index + 1}`;
    play.addEventListener("click", () => { player.src = result.url; player.play().catch(() => {}); });
    const text = document.createElement("span");
    text.textContent = ` ${result.size}, ${result.seconds} s${result.has_audio ? ", audio" : ""} · download: `;
    item.append(play, text, download(result.url, `${video.id}-${result.index}.mp4`, "video (MP4)"));
    if (result.thumbnail_url) item.append(" · ", download(result.thumbnail_url, `${video.id}-${result.index}-thumbnail.jpg`, "thumbnail"));
    if (result.spritesheet_url) item.append(" · ", download(result.spritesheet_url, `${video.id}-${result.index}-spritesheet.jpg`, "spritesheet"));
    return item;
  }));
}

function download(url, name, label) {
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.textContent = label;
  return link;
}

function showReport(items) {
  if (!items || !items.length) return;
  const rows = items.map((item) => {
    const row = document.createElement("tr");
    for (const [key, value] of [["param", item.param], ["behaviour", item.behaviour], ["requested", item.requested],
      ["value", item.value], ["note", item.note]]) {
      const cell = document.createElement("td");
      cell.className = key;
      cell.dataset.label = key;
      cell.textContent = readable(value);
      row.append(cell);
    }
    return row;
  });
  $("report").tBodies[0].replaceChildren(...rows);
  $("report-box").hidden = false;
}

function readable(value) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "object") return String(value);
  return Object.entries(value).map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
}

function money(value) {
  return `$${Number(value || 0).toFixed(2)}`;
}

// ---- show the call ----------------------------------------------------------------------------------

function callFor(video) {
  if (sentCall && sentCall.id === video.id) return sentCall;
  const fields = { model: video.model, prompt: video.prompt, size: video.size, seconds: video.seconds };
  if (video.metadata && video.metadata.n > 1) fields.n = String(video.metadata.n);
  return { id: video.id, fields, file: null, response: null };
}

function showCall(video) {
  const call = callFor(video);
  const origin = window.location.origin;
  const code = {
    curl: () => snippets.curl(origin, call.fields, call.file),
    python: () => snippets.python(origin, call.fields, call.file),
    js: () => snippets.javascript(origin, call.fields, call.file),
    request: () => `POST /v1/videos  (multipart/form-data)\n${JSON.stringify({ ...call.fields,
      ...(call.file ? { [call.file.field]: `<file ${call.file.name}>` } : {}) }, null, 2)}`,
    response: () => `GET /v1/videos/${video.id}\n${JSON.stringify(video, null, 2)}`,
  }[codeTab];
  $("code").textContent = code();
  $("call").hidden = false;
}

function pickTab(name) {
  codeTab = name;
  for (const tab of document.querySelectorAll("#call [role=tab]")) {
    tab.setAttribute("aria-selected", String(tab.id === `tab-${name}`));
  }
  if (current) showCall(current);
}

async function copy(button) {
  const text = $(button.dataset.copy).textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents($(button.dataset.copy));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = button.dataset.copy === "code" ? "Copy" : "Copy id"; }, 2000);
}

// ---- actions on the job on screen -------------------------------------------------------------------

async function act(action) {
  if (!current) return;
  const id = current.id;
  try {
    if (action === "cancel") {
      const { body } = await api(`/v1/videos/${id}/cancel`, { method: "POST" });
      showVideo(body);
    } else if (action === "delete") {
      await api(`/v1/videos/${id}`, { method: "DELETE" });
      gallery.forget(id);
      clearResult("deleted");
      $("status").textContent = `deleted ${id}`;
    } else if (action === "remix") {
      const prompt = $("prompt").value.trim();
      if (!prompt) { markInvalid("prompt", "Write the new prompt for the remix."); return; }
      clearResult("submitting remix…");
      const { body } = await api(`/v1/videos/${id}/remix`, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ prompt }) });
      sentCall = null;
      started = Date.now();
      watch(body);
    }
  } catch (error) {
    showError(error.message);
  }
}

function pick(video) {
  clearResult("loading…");
  started = 0;
  watchedId = null;
  watch(video);
  api(`/v1/videos/${video.id}`).then(({ body }) => { if (current && current.id === body.id) watch(body); })
    .catch((error) => { if (error.status === 404) { gallery.forget(video.id); setStatus("no longer on the server", null); } });
}

// ---- wiring -----------------------------------------------------------------------------------------

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function toggleTheme() {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark" : !matchMedia("(prefers-color-scheme: light)").matches;
  const next = dark ? "light" : "dark";
  localStorage.setItem(THEME_STORAGE, next);
  applyTheme(next);
}

function describeFile() {
  const file = chosenFile();
  $("media-name").textContent = file
    ? `${file.name} (${file.field === "input_video" ? "video-to-video" : "image-to-video"})` : "none: text-to-video";
  $("clear-media").hidden = !file;
  schedulePreview();
}

async function start() {
  applyTheme(localStorage.getItem(THEME_STORAGE));
  $("theme").addEventListener("click", toggleTheme);
  $("api-key").value = apiKey();
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
    notice("");
    boot();
  });
  $("generate-form").addEventListener("submit", submit);
  $("generate-form").addEventListener("input", (event) => { if (event.target.id !== "prompt") schedulePreview(); });
  $("model").addEventListener("change", applyModelRules);
  $("refresh").addEventListener("click", () => gallery.refresh());
  $("media").addEventListener("change", describeFile);
  $("clear-media").addEventListener("click", () => { $("media").value = ""; describeFile(); $("media").focus(); });
  for (const action of ["cancel", "delete", "remix"]) $(action).addEventListener("click", () => act(action));
  for (const name of ["curl", "python", "js", "request", "response"]) $(`tab-${name}`).addEventListener("click", () => pickTab(name));
  for (const button of document.querySelectorAll("button.copy")) button.addEventListener("click", () => copy(button));
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    $("media").files = event.dataTransfer.files;
    describeFile();
  });
  gallery.setup(pick);
  await boot();
}

async function boot() {
  try {
    await loadModels();
    await gallery.refresh();
    document.body.dataset.ready = "true";
  } catch (error) {
    if (error.status === 401) {
      notice("This Reelay requires an API key: paste it in the API key field above and press Save.");
      $("api-key").focus();
    } else {
      notice(`Could not reach the API: ${error.message}. Recent videos below are the ones saved in this browser.`);
      setTimeout(boot, 5000);
    }
  }
}

start();
