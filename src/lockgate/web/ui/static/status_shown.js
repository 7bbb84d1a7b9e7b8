// The pieces of the live status page (status.js) that hold no state: writing
// to an element only what changed, putting children in order with few moves,
// and what an item and a job show, decided as status_page.py decides for the
// server's rendering.

export const ZERO = "0".repeat(40);

// --- small helpers --------------------------------------------------------------------------

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Put `children` into `parent` in this order, moving as few as can be: the
// longest run already in order stays where it is, the others are inserted
// around it. What a container holds is remembered, so that a container whose
// children did not change costs no reading of the DOM.
export function place(parent, children) {
  const before = parent._placed;
  if (before && before.length === children.length) {
    let same = true;
    for (let i = 0; i < children.length; i++) {
      if (before[i] !== children[i]) {
        same = false;
        break;
      }
    }
    if (same) return;
  }
  parent._placed = children;
  const wanted = new Set(children);
  const current = parent.children;
  for (let i = current.length - 1; i >= 0; i--) if (!wanted.has(current[i])) current[i].remove();
  const at = new Map();
  for (let i = 0; i < current.length; i++) at.set(current[i], i);
  const stays = inOrder(children.map((child) => (at.has(child) ? at.get(child) : -1)));
  let next = null;
  for (let i = children.length - 1; i >= 0; i--) {
    if (!stays.has(i)) parent.insertBefore(children[i], next);
    next = children[i];
  }
}

// The indexes of the longest increasing run of `positions` (-1: not there yet).
function inOrder(positions) {
  const tails = []; // tails[k]: index in positions of the smallest tail of a run of k+1
  const back = new Array(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const value = positions[i];
    if (value < 0) continue;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (positions[tails[mid]] < value) lo = mid + 1;
      else hi = mid;
    }
    back[i] = lo > 0 ? tails[lo - 1] : -1;
    tails[lo] = i;
  }
  const stays = new Set();
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = back[i]) stays.add(i);
  return stays;
}

export function setText(view, key, node, value) {
  if (view[key] !== value) {
    view[key] = value;
    node.textContent = value;
  }
}

export function setClass(view, key, node, value) {
  if (view[key] !== value) {
    view[key] = value;
    node.className = value;
  }
}

export function setAttr(view, key, node, name, value) {
  if (view[key] === value) return;
  view[key] = value;
  if (value === null || value === undefined || value === "") node.removeAttribute(name);
  else node.setAttribute(name, value);
}

export function setHidden(view, key, node, hidden) {
  if (view[key] !== hidden) {
    view[key] = hidden;
    node.hidden = hidden;
  }
}

export function words(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 60000) return "< 1 min";
  const minutes = Math.floor(ms / 60000);
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} hr ${minutes % 60} min` : `${minutes} min`;
}

function safeHref(url) {
  if (typeof url !== "string" || !url) return null;
  if (/^https?:\/\//i.test(url) || (url.startsWith("/") && !url.startsWith("//"))) return url;
  return null;
}

export function changeHref(project, number) {
  return "/c/" + project.split("/").map(encodeURIComponent).join("/") + "/+/" + number;
}

// --- what an item and a job show (as status_page.py decides for the server) ----------------

const NONLIVE = ["nonlive", "Dependent change required for testing"];
const WAITING = ["waiting", "Waiting until closer to the head of the queue to start jobs"];
const SUCCEEDING = ["succeeding", "Succeeding"];

export function itemState(item) {
  const reasons = item.failing_reasons;
  if (reasons && reasons.length) return ["failing", "Failing because " + reasons.join(", ")];
  if (item.live === false) return NONLIVE;
  if (!item.active) return WAITING;
  return SUCCEEDING;
}

export function failingText(item, head, index) {
  const reasons = item.failing_reasons;
  if (!reasons || !reasons.length) return "";
  let text = "Failing because " + reasons.join(", ");
  if (reasons.includes("a needed change is failing")) {
    const culprits = [];
    for (const other of head.slice(0, index)) {
      if (other.failing_reasons && other.failing_reasons.length) {
        for (const ref of other.refs || []) culprits.push(String(ref.id || ref.ref));
      }
    }
    if (culprits.length) text += ` (${culprits.join(", ")} ahead)`;
  }
  return text;
}

export function jobShown(job, tenantPath) {
  const uuid = job.uuid;
  const nonvoting = job.voting === false;
  if (job.result) {
    return {
      state: "done", label: String(job.result), nonvoting,
      href: uuid ? `${tenantPath}/build/${encodeURIComponent(uuid)}` : null,
      title: `${job.result}: the build's page`,
      percent: null, log: safeHref(job.report_url || job.url),
    };
  }
  if (uuid && job.start_time !== null && job.start_time !== undefined && !job.queued) {
    const elapsed = job.elapsed_time || 0;
    let title = `running for ${words(elapsed)}`;
    let percent = null;
    if (job.estimated_time) {
      percent = Math.min(100, Math.floor((100 * elapsed) / (job.estimated_time * 1000)));
      title += ` of about ${words(job.estimated_time * 1000)}`;
    }
    return {
      state: "running", label: "running", nonvoting, title, percent, log: null,
      href: `${tenantPath}/stream/${encodeURIComponent(uuid)}`,
    };
  }
  if (job.waiting_status && !uuid) {
    return { state: "waiting", label: "waiting", nonvoting, href: null,
      title: String(job.waiting_status), percent: null, log: null };
  }
  return { state: "queued", label: "queued", nonvoting, href: null, title: "queued",
    percent: null, log: null };
}

export function jobsSummary(shown) {
  if (!shown.length) return "no jobs yet";
  const counts = new Map();
  for (const job of shown) {
    const key = job.state === "done" ? job.label : job.state;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const parts = [...counts].map(([key, n]) => `${n} ${key.toLowerCase()}`).join(", ");
  return `${shown.length} job${shown.length === 1 ? "" : "s"}: ${parts}`;
}

export function triggersText(pipeline) {
  const events = [];
  for (const trigger of pipeline.triggers || []) {
    const names = trigger.events && trigger.events.length ? trigger.events : [trigger.driver];
    for (const name of names) if (name && !events.includes(name)) events.push(String(name));
  }
  return events.join(", ");
}

export function refLabel(ref) {
  if (typeof ref.change === "number") return String(ref.id);
  let label = String(ref.ref || "");
  if (ref.newrev && ref.newrev !== ZERO) label += " " + ref.newrev.slice(0, 7);
  return label;
}

export function minutes(ms) {
  return Math.floor(ms / 60000);
}
