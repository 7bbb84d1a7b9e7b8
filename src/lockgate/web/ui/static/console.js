// The live console of a build: reads the console's server-sent events and
// appends each line as it arrives, following the end unless paused.
// Lines are added as text (textContent), never as markup.

const root = document.getElementById("console");
const box = document.getElementById("console-lines");
const status = document.getElementById("console-status");
const follow = document.getElementById("console-follow");
const badge = document.getElementById("console-state");

const ERROR = /\b(?:ERROR|CRITICAL|FATAL|FAILED!?)\b|(?:^|\| )(?:failed|unreachable)(?:: rc=-?\d+)?$/;
const WARNING = /\bWARN(?:ING)?\b|(?:^|\| )failed \(ignored\)/;
const TRACEBACK = "Traceback (most recent call last)";
const STAMP = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)? \| /;

let count = 0;
let following = true;
let traceColumn = -1;

function severity(text) {
  if (traceColumn >= 0) {
    const rest = text.slice(traceColumn);
    if (rest.startsWith(" ") || rest.startsWith("\t")) return "traceback";
    traceColumn = -1;
    if (rest.trim()) return "traceback";
  }
  const at = text.indexOf(TRACEBACK);
  if (at >= 0) { traceColumn = at; return "traceback"; }
  if (ERROR.test(text)) return "error";
  if (WARNING.test(text)) return "warning";
  return "";
}

function row(text) {
  count += 1;
  const line = document.createElement("span");
  line.className = "ln";
  line.id = `L${count}`;
  const sev = severity(text);
  if (sev) line.classList.add(`sev-${sev}`);
  const number = document.createElement("a");
  number.className = "n";
  number.href = `#L${count}`;
  number.textContent = String(count);
  const body = document.createElement("span");
  body.className = "t";
  const stamp = STAMP.exec(text);
  if (stamp) {
    const ts = document.createElement("span");
    ts.className = "ts";
    ts.textContent = stamp[0];
    body.append(ts, text.slice(stamp[0].length));
  } else {
    body.textContent = text;
  }
  line.append(number, body);
  return line;
}

function atBottom() {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 24;
}

function scrollToEnd() {
  if (following) box.scrollTop = box.scrollHeight;
}

function setFollowing(on) {
  following = on;
  follow.setAttribute("aria-pressed", String(on));
  follow.textContent = on ? "Pause scrolling" : "Follow output";
  if (on) scrollToEnd();
}

function say(text, kind) {
  status.textContent = text;
  status.dataset.kind = kind || "";
}

function lineCount() {
  return `${count.toLocaleString()} line${count === 1 ? "" : "s"}`;
}

function appendLines(data) {
  const frag = document.createDocumentFragment();
  for (const text of data.split("\n")) frag.append(row(text));
  box.append(frag);
  scrollToEnd();
}

function finished(info) {
  const result = info.result || "FINISHED";
  badge.className = `badge ${result.toLowerCase()}`;
  badge.textContent = result.replaceAll("_", " ");
  status.textContent = "";
  status.dataset.kind = "ended";
  status.append(`Finished: ${result.replaceAll("_", " ")} · ${lineCount()} · `);
  const log = document.createElement("a");
  log.href = root.dataset.log;
  log.textContent = "job output";
  const build = document.createElement("a");
  build.href = root.dataset.build;
  build.textContent = "build page";
  status.append(log, " · ", build);
}

function start() {
  follow.hidden = false;
  follow.addEventListener("click", () => setFollowing(!following));
  box.addEventListener("scroll", () => {
    // Scrolling up to read pauses; scrolling back to the end follows again.
    if (following && !atBottom()) setFollowing(false);
    else if (!following && atBottom()) setFollowing(true);
  });
  say("Connecting…", "wait");
  const stream = new EventSource(root.dataset.stream);
  stream.addEventListener("open", () => say(`Streaming · ${lineCount()}`, "live"));
  stream.addEventListener("message", (event) => {
    appendLines(event.data);
    say(`Streaming · ${lineCount()}`, "live");
  });
  stream.addEventListener("end", (event) => {
    stream.close();
    let info = {};
    try { info = JSON.parse(event.data); } catch { /* an end without details */ }
    finished(info);
  });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) say("The console stream closed; reload to try again.", "error");
    else say("Reconnecting…", "wait");
  });
}

start();
