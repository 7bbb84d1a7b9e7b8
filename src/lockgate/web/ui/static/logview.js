// The log viewer: marks the line or range the address names (#L12, #L12-20),
// extends a mark with shift-click, puts the link in the address bar (and on
// the clipboard), opens folded sections that hold a marked line, and steps
// through the problems (errors and tracebacks) of the log.

const lines = document.getElementById("log-lines");
const status = document.getElementById("log-status");
const nextButton = document.getElementById("log-next");
const RANGE = /^#L(\d+)(?:-L?(\d+))?$/;

let marked = [];
let anchor = null;
let cursor = 0;

function rowOf(n) {
  return document.getElementById(`L${n}`);
}

function reveal(row) {
  for (let el = row.parentElement; el && el !== lines; el = el.parentElement) {
    if (el.tagName === "DETAILS") el.open = true;
  }
}

function range() {
  const found = RANGE.exec(location.hash);
  if (!found) return null;
  let first = Number(found[1]);
  let last = found[2] ? Number(found[2]) : first;
  if (last < first) [first, last] = [last, first];
  return [first, last];
}

function describe(first, last) {
  return first === last ? `line ${first}` : `lines ${first}–${last}`;
}

function mark(scroll) {
  for (const row of marked) row.classList.remove("hl");
  marked = [];
  const wanted = range();
  if (!wanted) return;
  const [first, last] = wanted;
  for (let n = first; n <= last; n++) {
    const row = rowOf(n);
    if (!row) continue;
    row.classList.add("hl");
    reveal(row);
    marked.push(row);
  }
  anchor = first;
  cursor = first;
  if (!marked.length) {
    status.textContent = `The log has no ${describe(first, last)} shown here.`;
    return;
  }
  if (scroll) marked[0].scrollIntoView({ block: "center" });
}

async function share(first, last) {
  const label = describe(first, last);
  try {
    await navigator.clipboard.writeText(location.href);
    status.textContent = `Link to ${label} copied.`;
  } catch {
    status.textContent = `Link to ${label} is in the address bar.`;
  }
}

function select(first, last) {
  const hash = first === last ? `#L${first}` : `#L${first}-${last}`;
  history.pushState(null, "", hash);
  mark(false);
  share(first, last);
}

lines.addEventListener("click", (event) => {
  const link = event.target.closest("a.n");
  if (!link) return;
  event.preventDefault();
  const n = Number(link.textContent);
  if (event.shiftKey && anchor !== null) {
    select(Math.min(anchor, n), Math.max(anchor, n));
    return;
  }
  select(n, n);
});

window.addEventListener("hashchange", () => mark(true));
window.addEventListener("popstate", () => mark(true));

// --- problems -------------------------------------------------------------

function problems() {
  const found = [];
  for (const row of lines.querySelectorAll(".ln.sev-error, .ln.sev-traceback")) {
    const n = Number(row.id.slice(1));
    const before = rowOf(n - 1);
    // a traceback counts once, at its first line
    if (row.classList.contains("sev-traceback") && before && before.classList.contains("sev-traceback")) continue;
    found.push(row);
  }
  return found;
}

const found = problems();
const warnings = lines.querySelectorAll(".ln.sev-warning").length;

function summary() {
  const parts = [];
  parts.push(`${found.length} error${found.length === 1 ? "" : "s"}`);
  parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  return parts.join(" · ");
}

if (found.length) nextButton.disabled = false;
nextButton.addEventListener("click", () => {
  const next = found.find((row) => Number(row.id.slice(1)) > cursor) || found[0];
  const n = Number(next.id.slice(1));
  select(n, n);
  reveal(next);
  next.scrollIntoView({ block: "center" });
  status.textContent = `${summary()} · at line ${n}`;
});

// --- folding and wrapping ---------------------------------------------------

document.getElementById("log-expand").addEventListener("click", () => {
  for (const fold of lines.querySelectorAll("details.fold")) fold.open = true;
});
document.getElementById("log-collapse").addEventListener("click", () => {
  for (const fold of lines.querySelectorAll("details.fold")) fold.open = false;
  for (const row of marked) reveal(row);
});
const wrap = document.getElementById("log-wrap");
wrap.addEventListener("click", () => {
  const on = lines.classList.toggle("wrap");
  wrap.setAttribute("aria-pressed", String(on));
});

for (const el of document.querySelectorAll(".js-only")) el.hidden = false;
status.textContent = summary();
mark(true);
