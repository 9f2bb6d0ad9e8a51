// "Show the API call": code that reproduces the job on screen with curl, the openai Python SDK and fetch.
// `fields` are the form fields the page sent (strings), `file` the uploaded file's name, if any.

const q = (text) => `'${String(text).replaceAll("'", "'\\''")}'`;
const NUMERIC = new Set(["n", "seed"]);

function sdkValue(key, value) {
  if (NUMERIC.has(key)) return String(Number(value));
  return JSON.stringify(String(value));
}

export function curl(origin, fields, file) {
  const lines = [`curl ${origin}/v1/videos \\`, `  -H "Authorization: Bearer $REELAY_API_KEY" \\`];
  for (const [key, value] of Object.entries(fields)) lines.push(`  -F ${q(`${key}=${value}`)} \\`);
  if (file) lines.push(`  -F ${q(`${file.field}=@${file.name}`)} \\`);
  lines[lines.length - 1] = lines[lines.length - 1].replace(/ \\$/, "");
  return `${lines.join("\n")}\n\n# then follow it live (or poll GET /v1/videos/{id}):\ncurl -N ${origin}/v1/videos/VIDEO_ID/events \\\n`
    + `  -H "Authorization: Bearer $REELAY_API_KEY"`;
}

export function python(origin, fields, file) {
  const known = new Set(["model", "prompt", "size", "seconds"]);
  const args = [];
  const extra = [];
  for (const [key, value] of Object.entries(fields)) {
    if (known.has(key)) args.push(`    ${key}=${sdkValue(key, value)},`);
    else extra.push(`${JSON.stringify(key)}: ${sdkValue(key, value)}`);
  }
  if (file) args.push(`    ${file.field}=open(${JSON.stringify(file.name)}, "rb"),`);
  if (extra.length) args.push(`    extra_body={${extra.join(", ")}},`);
  return [
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url="${origin}/v1", api_key="YOUR_REELAY_KEY_OR_ANYTHING")`,
    "video = client.videos.create_and_poll(",
    ...args,
    ")",
    "print(video.id, video.status)",
    'client.videos.download_content(video.id).write_to_file("video.mp4")',
  ].join("\n");
}

export function javascript(origin, fields, file) {
  const lines = ["const form = new FormData();"];
  for (const [key, value] of Object.entries(fields)) lines.push(`form.append(${JSON.stringify(key)}, ${JSON.stringify(String(value))});`);
  if (file) lines.push(`form.append(${JSON.stringify(file.field)}, fileInput.files[0]);  // ${file.name}`);
  return [
    ...lines,
    `const response = await fetch("${origin}/v1/videos", {`,
    '  method: "POST",',
    '  headers: { Authorization: "Bearer YOUR_REELAY_KEY" },  // omit if the server has no keys',
    "  body: form,",
    "});",
    "const video = await response.json();",
    `// live progress: new EventSource("${origin}/v1/videos/" + video.id + "/events") on a server without keys`,
    "console.log(video.id, video.status);",
  ].join("\n");
}
