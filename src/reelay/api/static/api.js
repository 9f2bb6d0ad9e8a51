// The public API from the browser: fetch with the saved key, errors in the OpenAI shape, live events.
// No dependencies. follow() streams GET /v1/videos/{id}/events (fetch, so the key travels in a header,
// which EventSource cannot send) and falls back to polling; either way it retries when the server blips.

export const KEY_STORAGE = "reelay.apiKey";

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

export class ApiError extends Error {
  constructor(message, status, param) {
    super(message);
    this.status = status;   // 0: the server could not be reached
    this.param = param || null;
  }
}

function authHeaders(extra) {
  const headers = new Headers(extra || {});
  if (apiKey()) headers.set("Authorization", `Bearer ${apiKey()}`);
  return headers;
}

export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: authHeaders(options.headers) });
  } catch {
    throw new ApiError("cannot reach the Reelay server", 0);
  }
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) {
    const error = body && body.error ? body.error : {};
    throw new ApiError(error.message || `HTTP ${response.status}`, response.status, error.param);
  }
  return { body, response };
}

const FINISHED = ["completed", "failed", "cancelled"];
export const finished = (video) => FINISHED.includes(video.status);

// Calls onVideo(video) for every change until the job finishes; onConnection(text) says when the
// server cannot be reached and when it is back. Returns a function that stops following.
export function follow(id, { onVideo, onConnection }) {
  let stopped = false;
  let controller = null;
  let lastEventId = null;
  let failures = 0;

  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function stream() {
    controller = new AbortController();
    const headers = authHeaders({ Accept: "text/event-stream" });
    if (lastEventId) headers.set("Last-Event-ID", lastEventId);
    const response = await fetch(`/v1/videos/${id}/events`, { headers, signal: controller.signal });
    if (response.status === 204) return true;  // already saw the end
    if (!response.ok || !response.body) throw new ApiError(`HTTP ${response.status}`, response.status);
    failures = 0;
    onConnection("");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("id:")) lastEventId = line.slice(3).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (!data.length) continue;
        const video = JSON.parse(data.join("\n"));
        onVideo(video);
        if (finished(video)) return true;
      }
    }
  }

  async function pollOnce() {
    const { body } = await api(`/v1/videos/${id}`);
    failures = 0;
    onConnection("");
    onVideo(body);
    return finished(body);
  }

  (async () => {
    let useStream = true;
    while (!stopped) {
      try {
        const done = useStream ? await stream() : await pollOnce();
        if (done) return;
        if (!useStream) await wait(1000);
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiError && error.status === 404) {
          onConnection("This video no longer exists on the server.");
          return;
        }
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && useStream) {
          useStream = false;  // a server without the events route: poll instead
          continue;
        }
        failures += 1;
        const delay = Math.min(30000, 1000 * 2 ** Math.min(failures - 1, 5));
        onConnection(`Lost contact with the server; retrying in ${Math.round(delay / 1000)} s. `
          + "The job is stored on the server and keeps running; it shows here once the server answers.");
        await wait(delay);
      }
    }
  })();

  return () => { stopped = true; if (controller) controller.abort(); };
}
