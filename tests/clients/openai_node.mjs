// The official `openai` npm package, unchanged, against Reelay: only baseURL differs.
// Run by tests/clients/test_openai_node.py with BASE_URL, OUT_DIR and IMAGE set; prints one JSON summary.
import fs from "node:fs";
import path from "node:path";
import OpenAI, { toFile } from "openai";

const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: "unused", maxRetries: 0 });
const outDir = process.env.OUT_DIR;
const summary = { files: {}, checks: {} };

async function poll(id) {
  for (;;) {
    const video = await client.videos.retrieve(id);
    if (!["queued", "in_progress"].includes(video.status)) return video;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function download(id, name, query) {
  const response = await client.videos.downloadContent(id, query);
  const file = path.join(outDir, name);
  fs.writeFileSync(file, Buffer.from(await response.arrayBuffer()));
  return file;
}

async function finished(video, name) {
  const done = await poll(video.id);
  if (done.status !== "completed") throw new Error(`${video.id} ended ${done.status}: ${JSON.stringify(done.error)}`);
  summary.files[name] = { path: await download(done.id, `${name}.mp4`), size: done.size, seconds: done.seconds };
  return done;
}

// create (text-to-video) with Reelay extras in the body, then poll, then every content variant
const t2v = await finished(
  await client.videos.create({ model: "reelay-local", prompt: "a red fox in the snow", seconds: "2", size: "320x180", n: 2 }),
  "t2v",
);
summary.checks.results = t2v.output.results.length;
summary.checks.provider = t2v.metadata.provider;
for (const variant of ["thumbnail", "spritesheet"]) {
  const bytes = fs.readFileSync(await download(t2v.id, `${variant}.jpg`, { variant }));
  summary.checks[variant] = bytes.subarray(0, 3).toString("hex");
}

// image-to-video: a multipart file upload
const image = await toFile(fs.createReadStream(process.env.IMAGE), "reference.png", { type: "image/png" });
await finished(await client.videos.create({ prompt: "slow push in", input_reference: image, seconds: "2", size: "640x480" }), "i2v");

// list: auto-pagination, one per page
const listed = [];
for await (const video of client.videos.list({ limit: 1 })) {
  listed.push(video.id);
  if (listed.length === 2) break;  // two pages of one: the paginator followed the cursor
}
summary.checks.listed = listed;

// remix
const remix = await client.videos.remix(t2v.id, { prompt: "make it vintage sepia" });
summary.checks.remixed_from = remix.remixed_from_video_id;
await finished(remix, "remix");

// edit and extend: a missing route (404/405) throws, and the test fails
await finished(await client.videos.edit({ prompt: "make it black and white", video: { id: t2v.id } }), "edit");
await finished(await client.videos.extend({ prompt: "keep going", seconds: "2", video: { id: t2v.id } }), "extend");

// delete, then the video is gone
const deleted = await client.videos.delete(remix.id);
summary.checks.deleted = deleted.deleted;
try {
  await client.videos.retrieve(remix.id);
  summary.checks.after_delete = 200;
} catch (error) {
  summary.checks.after_delete = error.status;
}

// characters: made from an uploaded video, read back, then used by id in a generation
const clip = await toFile(fs.createReadStream(process.env.VIDEO), "mira.mp4", { type: "video/mp4" });
const character = await client.videos.createCharacter({ name: "Mira", video: clip });
const fetched = await client.videos.getCharacter(character.id);
summary.checks.character = { id: character.id, name: fetched.name, same: fetched.created_at === character.created_at };
const withCharacter = await finished(
  await client.videos.create({ prompt: "Mira waves", seconds: "2", size: "320x240", characters: [character.id] }),
  "character",
);
summary.checks.character_inputs = withCharacter.metadata.normalization.map((item) => item.param);

console.log(JSON.stringify(summary));
