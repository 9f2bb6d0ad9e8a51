// Sends one video request through the Vercel AI SDK's xAI provider (@ai-sdk/xai), the REST client
// xAI's own docs point Node users to, at BASE_URL (a loopback fake that records it).
// Usage: CASE=<json> BASE_URL=http://127.0.0.1:PORT/v1 node xai_client.mjs
// CASE: {model, prompt, duration?, aspectRatio?, resolution?, image?, references?, mode?, video?}
// where image/references/video are file paths. Prints {"request_id": ...} on success.
import { readFileSync } from "node:fs";
import { experimental_startVideo as startVideo } from "ai";
import { createXai } from "@ai-sdk/xai";

const spec = JSON.parse(process.env.CASE);
const xai = createXai({ apiKey: "test", baseURL: process.env.BASE_URL });
const xaiOptions = {};
if (spec.resolution) xaiOptions.resolution = spec.resolution;
if (spec.mode) xaiOptions.mode = spec.mode;
if (spec.video) xaiOptions.videoUrl = "data:video/mp4;base64," + readFileSync(spec.video).toString("base64");

const prompt = spec.image ? { text: spec.prompt, image: new Uint8Array(readFileSync(spec.image)) } : spec.prompt;
const result = await startVideo({
  model: xai.video(spec.model),
  prompt,
  duration: spec.duration,
  aspectRatio: spec.aspectRatio,
  inputReferences: spec.references?.map((path) => new Uint8Array(readFileSync(path))),
  providerOptions: { xai: xaiOptions },
  maxRetries: 0,
});
console.log(JSON.stringify({ operation: result.operation ?? null, warnings: result.warnings ?? [] }));
