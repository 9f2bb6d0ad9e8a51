// Recent videos: GET /v1/videos, kept in localStorage so a refresh (or a server that is down) still
// shows them. Each card is a button, so the gallery works from the keyboard.

import { api } from "./api.js";

const CACHE = "reelay.recent";
const $ = (id) => document.getElementById(id);

export function cached() {
  try { return JSON.parse(localStorage.getItem(CACHE) || "[]"); } catch { return []; }
}

function remember(videos) {
  localStorage.setItem(CACHE, JSON.stringify(videos.slice(0, 24)));
}

export function upsert(video) {
  const rest = cached().filter((v) => v.id !== video.id);
  remember([video, ...rest].sort((a, b) => b.created_at - a.created_at));
  render(cached());
}

export function forget(id) {
  remember(cached().filter((v) => v.id !== id));
  render(cached());
}

let onPick = () => {};
let selected = null;

export function setup(pick) {
  onPick = pick;
  render(cached());
}

export function select(id) {
  selected = id;
  for (const button of document.querySelectorAll("#recent-list button")) {
    button.setAttribute("aria-pressed", String(button.dataset.videoId === id));
  }
}

export async function refresh() {
  const note = $("recent-note");
  try {
    const { body } = await api("/v1/videos?limit=24");
    remember(body.data);
    note.hidden = true;
  } catch (error) {
    note.textContent = `Showing the videos saved in this browser: ${error.message}.`;
    note.hidden = false;
  }
  render(cached());
}

function render(videos) {
  $("recent-list").replaceChildren(...videos.map(card));
  if (selected) select(selected);
}

function card(video) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "recent-card";
  button.dataset.videoId = video.id;
  button.setAttribute("aria-pressed", "false");
  const thumb = video.output && video.output.thumbnail_url;
  const frame = document.createElement("span");
  frame.className = "thumb";
  if (thumb) {
    const image = document.createElement("img");
    image.src = thumb;
    image.alt = "";
    image.loading = "lazy";
    frame.append(image);
  }
  const prompt = document.createElement("span");
  prompt.className = "prompt";
  prompt.textContent = video.prompt;
  const meta = document.createElement("span");
  meta.className = `meta status-${video.status}`;
  const size = (video.output && video.output.size) || video.size;
  meta.textContent = `${video.status.replace("_", " ")} · ${video.model} · ${size} · ${video.seconds}s`;
  button.append(frame, prompt, meta);
  button.addEventListener("click", () => { select(video.id); onPick(video); });
  item.append(button);
  return item;
}
