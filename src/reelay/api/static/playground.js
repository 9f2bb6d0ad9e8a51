// Reelay playground: the public API from a browser, nothing else. No build step, no dependencies.
// Models from GET /v1/models; POST /v1/videos (multipart, like the official SDKs); poll GET /v1/videos/{id};
// play output.url (a signed link: no key needed); recent videos from GET /v1/videos.

const KEY_STORAGE = "reelay.apiKey";
const $ = (id) => document.getElementById(id);
let models = [];
let pollTimer = null;

function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (apiKey()) headers.set("Authorization", `Bearer ${apiKey()}`);
  const response = await fetch(path, { ...options, headers });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (response.status === 401) {
    notice("This Reelay requires an API key: paste it in the API key field above and press Save.");
    $("api-key").focus();
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return { body, response };
}

// ---- models -------------------------------------------------------------------------------------

async function loadModels() {
  const { body } = await api("/v1/models");
  models = body.data;
  const select = $("model");
  select.replaceChildren();
  const sorted = [...models].sort((a, b) => Number(b.available) - Number(a.available) || a.id.localeCompare(b.id));
  for (const model of sorted) {
    const option = new Option(model.available ? model.id : `${model.id} (not configured)`, model.id);
    option.disabled = !model.available;
    select.append(option);
  }
  const preferred = sorted.find((m) => m.id === "reelay-local" && m.available) || sorted.find((m) => m.available);
  if (preferred) select.value = preferred.id;
  describeModel();
}

function describeModel() {
  const model = models.find((m) => m.id === $("model").value);
  if (!model) return;
  const caps = model.capabilities || {};
  const sizes = new Set();
  for (const byRatio of Object.values(caps.sizes || {})) for (const size of Object.values(byRatio)) sizes.add(size);
  $("sizes").replaceChildren(...[...sizes].map((size) => new Option(size, size)));
  if (caps.seconds) {
    $("seconds").min = caps.seconds.min; $("seconds").max = caps.seconds.max;
    $("seconds").step = caps.seconds.step || 1;
  }
  if (caps.n) $("n").max = caps.n.max;
  const price = caps.pricing ? `$${caps.pricing.per_second}/s` : "";
  $("model-info").textContent = [model.kind || caps.kind, (caps.modes || []).join(", "), price,
    model.served_by ? `served by ${model.served_by}` : ""].filter(Boolean).join(" · ");
}

// ---- the request ---------------------------------------------------------------------------------

function requestForm() {
  const form = new FormData();
  form.append("model", $("model").value);
  form.append("prompt", $("prompt").value);
  if ($("size").value) form.append("size", $("size").value);
  if ($("seconds").value) form.append("seconds", $("seconds").value);
  if (Number($("n").value) > 1) form.append("n", $("n").value);
  const file = $("media").files[0];
  if (file) form.append(file.type.startsWith("video/") ? "input_video" : "input_reference", file, file.name);
  return form;
}

async function submit(event) {
  event.preventDefault();
  notice("");
  clearResult();
  $("submit").disabled = true;
  try {
    const { body } = await api("/v1/videos", { method: "POST", body: requestForm() });
    showVideo(body);
    follow(body.id, Date.now());
  } catch (error) {
    showError(error.message);
    $("submit").disabled = false;
  }
}

async function estimate() {
  notice("");
  try {
    const { body } = await api("/v1/videos?dryRun=true", { method: "POST", body: requestForm() });
    $("cost").textContent = `Estimate: ${money(body.cost_estimate)} for ${body.n} × ${body.seconds}s at ${body.size}`
      + ` on ${body.provider}`;
    showReport(body.normalization);
  } catch (error) {
    showError(error.message);
  }
}

// ---- following a job -----------------------------------------------------------------------------

function follow(id, started) {
  clearTimeout(pollTimer);
  const tick = async () => {
    try {
      const { body, response } = await api(`/v1/videos/${id}`);
      showVideo(body, started);
      if (["queued", "in_progress"].includes(body.status)) {
        const after = Number(response.headers.get("openai-poll-after-ms")) || 1000;
        pollTimer = setTimeout(tick, Math.min(after, 1000));
      } else {
        $("submit").disabled = false;
        loadRecent();
      }
    } catch (error) {
      showError(error.message);
      $("submit").disabled = false;
    }
  };
  tick();
}

function clearResult() {
  $("error").hidden = true;
  $("player").hidden = true;
  $("player").removeAttribute("src");
  $("results").replaceChildren();
  $("report").hidden = true;
  $("cost").textContent = "";
}

function showVideo(video, started) {
  const job = $("job");
  job.dataset.videoId = video.id;
  job.dataset.status = video.status;
  $("status").textContent = video.status.replace("_", " ");
  $("status").className = `status-${video.status}`;
  $("progress").value = video.progress || 0;
  $("percent").textContent = `${video.progress || 0}%`;
  if (started) $("elapsed").textContent = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const metadata = video.metadata || {};
  if (metadata.cost_estimate !== undefined) {
    $("cost").textContent = `Cost estimate: ${money(metadata.cost_estimate)} · provider ${metadata.provider}`
      + ` · model ${metadata.executed_model}`;
  }
  showReport(metadata.normalization);
  if (video.status === "failed" && video.error) showError(`${video.error.code}: ${video.error.message}`);
  if (video.status === "completed" && video.output) showOutput(video.output);
}

function showOutput(output) {
  const player = $("player");
  if (player.getAttribute("src") !== output.url) {
    player.src = output.url;
    player.poster = output.thumbnail_url || "";
    player.hidden = false;
    player.play().catch(() => {});  // autoplay may be refused; the controls still work
  }
  $("results").replaceChildren(...output.results.map((result) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = result.url;
    link.textContent = `video ${result.index + 1}: ${result.size}, ${result.seconds}s${result.has_audio ? ", audio" : ""}`;
    link.addEventListener("click", (event) => { event.preventDefault(); player.src = result.url; player.play(); });
    item.append(link);
    return item;
  }));
}

function showReport(items) {
  if (!items || !items.length) return;
  const rows = items.map((item) => {
    const row = document.createElement("tr");
    for (const [key, value] of [["param", item.param], ["behaviour", item.behaviour], ["requested", item.requested],
      ["value", item.value], ["note", item.note]]) {
      const cell = document.createElement("td");
      cell.className = key;
      cell.textContent = typeof value === "object" && value !== null ? JSON.stringify(value).replaceAll(",", ", ")
        : (value ?? "");
      row.append(cell);
    }
    return row;
  });
  $("report").tBodies[0].replaceChildren(...rows);
  $("report").hidden = false;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

function money(value) {
  return `$${Number(value || 0).toFixed(2)}`;
}

// ---- recent videos ---------------------------------------------------------------------------------

async function loadRecent() {
  try {
    const { body } = await api("/v1/videos?limit=12");
    $("recent-list").replaceChildren(...body.data.map(recentItem));
  } catch (error) {
    $("recent-list").replaceChildren();
  }
}

function recentItem(video) {
  const item = document.createElement("li");
  item.dataset.videoId = video.id;
  if (video.output && video.output.thumbnail_url) {
    const image = document.createElement("img");
    image.src = video.output.thumbnail_url;
    image.alt = video.prompt;
    item.append(image);
  }
  const prompt = document.createElement("p");
  prompt.className = "prompt";
  prompt.textContent = video.prompt;
  const meta = document.createElement("span");
  meta.className = `status-${video.status}`;
  meta.textContent = `${video.status} · ${video.model} · ${video.size} · ${video.seconds}s`;
  item.append(prompt, meta);
  item.addEventListener("click", () => {
    clearResult();
    if (["queued", "in_progress"].includes(video.status)) follow(video.id, Date.now());
    else showVideo(video);
  });
  return item;
}

// ---- wiring ----------------------------------------------------------------------------------------

async function start() {
  $("api-key").value = apiKey();
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
    notice("");
    boot();
  });
  $("generate-form").addEventListener("submit", submit);
  $("estimate").addEventListener("click", estimate);
  $("model").addEventListener("change", describeModel);
  $("refresh").addEventListener("click", loadRecent);
  $("media").addEventListener("change", () => {
    const file = $("media").files[0];
    $("media-name").textContent = file ? `${file.name} (${file.type.startsWith("video/") ? "video-to-video" : "image-to-video"})`
      : "none: text-to-video";
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    $("media").files = event.dataTransfer.files;
    $("media").dispatchEvent(new Event("change"));
  });
  await boot();
}

async function boot() {
  try {
    await loadModels();
    await loadRecent();
    document.body.dataset.ready = "true";
  } catch (error) {
    if (!$("notice").textContent) notice(`Could not reach the API: ${error.message}`);
  }
}

start();
