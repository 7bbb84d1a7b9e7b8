// The live status page: polls the tenant's status document every second and
// updates the page in place. Every pipeline, queue, chain, item and job has
// its element, found again by its key at the next update; an element's text,
// classes and attributes are written only when they changed, and elements
// move only when their order did. So an update of 500 items touches what moved
// (a few progress bars, a result, an item come or gone), not the whole page.
//
// The markup built here is the markup templates/status.html writes.
// `?render=full` rebuilds everything at every update instead: the baseline the
// benchmark (benchmarks/ui_status.py) compares with.

import {
  ZERO,
  changeHref,
  el,
  failingText,
  itemState,
  jobShown,
  jobsSummary,
  minutes,
  place,
  refLabel,
  setAttr,
  setClass,
  setHidden,
  setText,
  triggersText,
  words,
} from "./status_shown.js";

const root = document.getElementById("status");
const INTERVAL_MS = 1000;
const KEEP_TIMINGS = 2000;
const EXPAND_KEY = "lockgate.status.expand";

document.documentElement.classList.add("js");

const tenant = root.dataset.tenant;
const apiUrl = root.dataset.api;
const onlyChange = root.dataset.change || "";
const admin = root.dataset.admin === "1";
const csrfField = root.dataset.csrfField;
const csrfToken = root.dataset.csrf;
const tenantPath = "/t/" + encodeURIComponent(tenant);
const fullRender = new URLSearchParams(location.search).get("render") === "full";

const filterBox = document.getElementById("status-filter");
const expandBox = document.getElementById("status-expand");
const liveState = document.getElementById("status-live");
const eventsCount = document.getElementById("status-events");
const resultsCount = document.getElementById("status-results");

// Measured per update, for the benchmark and for anyone curious (devtools):
// parse = JSON.parse, update = the DOM changes, layout = style and layout
// of the changed page (forced at the end of the update so that it is counted).
const timings = [];
window.lockgateStatus = { timings, updates: 0 };

let pipelines = new Map(); // name -> view
let items = new Map(); // item id -> view
let lastDoc = null;
let first = true;
let terms = [];
let expandDefault = readExpand();

function readExpand() {
  try {
    const stored = localStorage.getItem(EXPAND_KEY);
    if (stored !== null) return stored === "1";
  } catch (e) {
    // storage refused (private mode): the page's own default
  }
  return root.dataset.expand === "1";
}

function matches(pipeline, queue, item) {
  const refs = item.refs || [];
  if (onlyChange) {
    return refs.some((ref) => {
      const id = String(ref.id || "");
      return id === onlyChange || (!onlyChange.includes(",") && id.split(",")[0] === onlyChange);
    });
  }
  if (!terms.length) return true;
  const fields = [pipeline.toLowerCase(), queue.toLowerCase()];
  for (const ref of refs) {
    fields.push(String(ref.project || "").toLowerCase());
    fields.push(String(ref.id || ref.ref || "").toLowerCase());
  }
  return terms.some((term) => fields.some((field) => field.includes(term)));
}

// --- pipelines and queues --------------------------------------------------------------------

function createPipeline(name) {
  const section = el("section", "pipeline");
  section.dataset.pipeline = name;
  const head = el("header", "pipeline-head");
  const h2 = el("h2");
  const count = el("span", "count");
  count.title = "Items in the pipeline";
  h2.append(el("span", "pipeline-name", name), " ", count);
  const desc = el("p", "pipeline-desc");
  const triggers = el("p", "pipeline-triggers");
  head.append(h2, desc, triggers);
  const queues = el("div", "queues");
  section.append(head, queues, el("p", "empty-note", "Nothing queued"));
  return { section, count, desc, triggers, queuesEl: queues, queues: new Map() };
}

function createQueue(shared) {
  const box = el("div", "queue");
  const view = { box, chainsEl: el("div", "chains"), chains: new Map() };
  if (shared) {
    const head = el("h3", "queue-head");
    view.name = el("span", "queue-name");
    view.window = el("span", "window");
    view.window.title = "Items that may run jobs at once";
    head.append(view.name, " ", view.window);
    box.append(head);
  }
  box.append(view.chainsEl);
  return view;
}

// One object for every item's update: nothing allocated per item.
const place_ = { pipeline: "", head: null, index: 0, branched: false, promotable: false, now: 0 };

function updatePipeline(view, pipeline, now, generation) {
  const queues = pipeline.change_queues || [];
  const shared = pipeline.manager === "dependent";
  let count = 0;
  for (const queue of queues) for (const head of queue.heads || []) count += head.length;
  setText(view, "_count", view.count, String(count));
  const description = pipeline.description || "";
  setText(view, "_desc", view.desc, description);
  setHidden(view, "_descHidden", view.desc, !description);
  const triggers = triggersText(pipeline);
  setText(view, "_triggers", view.triggers, `${pipeline.manager || ""} · ${triggers}`);
  setHidden(view, "_triggersHidden", view.triggers, !triggers);

  const queueBoxes = [];
  let shown = 0;
  let liveAhead = false; // a live item is ahead: promoting this one would move it
  place_.pipeline = pipeline.name;
  place_.now = now;
  for (const queue of queues) {
    const heads = queue.heads || [];
    // A shared queue is known by its name; an independent pipeline's queues
    // (one per item, often of the same name) by the item they were made for.
    let key = `\u0000${queue.name || ""}\u0000${queue.branch || ""}`;
    if (!shared) for (const head of heads) if (head.length) { key = head[0].id; break; }
    let qv = view.queues.get(key);
    if (!qv) {
      qv = createQueue(shared);
      view.queues.set(key, qv);
    }
    qv.generation = generation;
    if (shared) {
      liveAhead = false;
      const name = `Queue: ${queue.name || ""}${queue.branch ? ` (${queue.branch})` : ""}`;
      setText(qv, "_name", qv.name, name);
      setText(qv, "_window", qv.window, `window ${queue.window ? queue.window : "unlimited"}`);
    }
    const queueName = queue.name || "";
    const chainEls = [];
    let queueShown = 0;
    for (const head of heads) {
      if (!head.length) continue;
      let chain = qv.chains.get(head[0].id);
      if (!chain) {
        chain = el("div", "chain");
        qv.chains.set(head[0].id, chain);
      }
      chain.generation = generation;
      const itemEls = [];
      let chainShown = 0;
      place_.head = head;
      for (let index = 0; index < head.length; index++) {
        const item = head[index];
        const live = item.live !== false;
        place_.index = index;
        place_.promotable = live && liveAhead;
        place_.branched = !(item.items_behind && item.items_behind.length) && index < head.length - 1;
        liveAhead = liveAhead || live;
        const iv = itemView(item, generation);
        if (iv.skipped && generation % OFFSCREEN_EVERY !== iv.slot) later(iv, item, place_);
        else {
          iv.pending = null;
          updateItem(iv, item, place_);
        }
        const visible = matches(pipeline.name, queueName, item);
        setHidden(iv, "_hidden", iv.el, !visible);
        if (visible) chainShown++;
        itemEls.push(iv.el);
      }
      place(chain, itemEls);
      setHidden(chain, "_hidden", chain, chainShown === 0);
      setClass(chain, "_class", chain, chainShown > 1 ? "chain multi" : "chain");
      queueShown += chainShown;
      chainEls.push(chain);
    }
    if (qv.chains.size !== chainEls.length) {
      for (const [key, chain] of qv.chains) if (chain.generation !== generation) qv.chains.delete(key);
    }
    place(qv.chainsEl, chainEls);
    setHidden(qv, "_hidden", qv.box, queueShown === 0);
    shown += queueShown;
    queueBoxes.push(qv.box);
  }
  if (view.queues.size !== queueBoxes.length) {
    for (const [key, qv] of view.queues) if (qv.generation !== generation) view.queues.delete(key);
  }
  place(view.queuesEl, queueBoxes);
  setClass(view, "_class", view.section, count ? "pipeline" : "pipeline empty");
  setHidden(view, "_hidden", view.section, (terms.length > 0 || onlyChange !== "") && shown === 0);
}

// --- items -------------------------------------------------------------------------------------

// The browser draws no item off the screen (content-visibility: auto). Such an
// item is brought up to date one update in OFFSCREEN_EVERY, and at once when it
// comes into view: an update costs about what can be seen, however long the page.
const OFFSCREEN_EVERY = 5;
let created = 0;

function later(view, item, at) {
  view.pending = item;
  const saved = view.pendingAt || (view.pendingAt = {});
  saved.pipeline = at.pipeline;
  saved.head = at.head;
  saved.index = at.index;
  saved.branched = at.branched;
  saved.promotable = at.promotable;
  saved.now = at.now;
}

function itemView(item, generation) {
  let view = items.get(item.id);
  if (!view) {
    view = createItem(item);
    items.set(item.id, view);
  }
  view.generation = generation;
  return view;
}

function createItem(item) {
  const article = el("article", "item");
  article.dataset.item = item.id;
  const icon = el("span", "item-icon");
  icon.setAttribute("role", "img");
  const body = el("div", "item-body");
  const head = el("div", "item-head");
  const refs = el("div", "item-refs");
  const times = el("div", "item-times");
  const eta = el("span", "eta");
  eta.title = "Remaining time";
  const age = el("span", "age");
  age.title = "Time in the queue";
  times.append(eta, " ", age);
  head.append(refs, times);
  const bar = el("div", "item-bar");
  bar.setAttribute("aria-hidden", "true");
  const failing = el("p", "item-failing");
  const details = el("details", "item-jobs");
  details.open = expandDefault;
  const summary = el("summary");
  const jobsEl = el("ul", "jobs");
  details.append(summary, jobsEl);
  body.append(head, bar, failing, details);
  article.append(icon, body);
  const view = { el: article, icon, refs, eta, age, bar, failing, details, summary, jobsEl,
    jobs: new Map(), segs: [], skipped: false, slot: created++ % OFFSCREEN_EVERY, pending: null };
  article.addEventListener("contentvisibilityautostatechange", (event) => {
    view.skipped = event.skipped;
    if (!event.skipped && view.pending !== null) {
      const item = view.pending;
      view.pending = null;
      updateItem(view, item, view.pendingAt);
    }
  });
  if (admin && item.live !== false && item.refs && item.refs.length) addAdmin(view, item, details);
  return view;
}

function adminForm(action, fields, label, classes) {
  const form = el("form", "inline");
  form.method = "post";
  form.action = `${tenantPath}/status/${action}`;
  const token = el("input");
  token.type = "hidden";
  token.name = csrfField;
  token.value = csrfToken;
  form.append(token);
  for (const [name, value] of Object.entries(fields)) {
    const input = el("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  const button = el("button", classes, label);
  button.type = "submit";
  form.append(button);
  return form;
}

function addAdmin(view, item, details) {
  const ref = item.refs[0];
  // the item's pipeline is set on its first update (an item never changes pipeline)
  view.adminFields = { project: String(ref.project || "") };
  if (typeof ref.change === "number") view.adminFields.change = String(ref.id);
  else view.adminFields.ref = ref.newrev && ref.newrev !== ZERO ? ref.newrev : String(ref.ref || "");
  view.adminBox = el("div", "item-admin");
  details.append(view.adminBox);
}

function fillAdmin(view, pipeline, label) {
  const fields = { pipeline, ...view.adminFields };
  const dequeue = adminForm("dequeue", fields, "Dequeue", "small danger");
  dequeue.dataset.confirm = `Dequeue ${label} from ${pipeline}?`;
  view.adminBox.append(dequeue);
  if (fields.change) {
    view.promote = adminForm("promote", fields, "Promote", "small");
    view.adminBox.append(view.promote);
  }
}

function sameRefs(view, refs) {
  const known = view.refKeys;
  if (!known || known.length !== refs.length) return false;
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i];
    const was = known[i];
    if (was.id !== (ref.id || ref.ref) || was.project !== ref.project || was.subject !== ref.subject) {
      return false;
    }
  }
  return true;
}

function renderRefs(view, refs) {
  const nodes = [];
  view.refKeys = refs.map((ref) => ({ id: ref.id || ref.ref, project: ref.project, subject: ref.subject }));
  for (const ref of refs) {
    const line = el("div", "ref");
    const link = el("a", "ref-change", refLabel(ref));
    if (typeof ref.change === "number") link.href = changeHref(String(ref.project || ""), ref.change);
    line.append(link, " ", el("span", "ref-project", String(ref.project || "")));
    nodes.push(line);
    if (ref.subject) {
      const subject = el("div", "ref-subject", String(ref.subject));
      subject.title = String(ref.subject);
      nodes.push(subject);
    }
  }
  view.refs.replaceChildren(...nodes);
}

function updateItem(view, item, at) {
  const state = itemState(item);
  const cls = at.branched ? `item ${state[0]} branched` : `item ${state[0]}`;
  setClass(view, "_class", view.el, cls);
  if (view._title !== state[1]) {
    view._title = state[1];
    view.icon.title = state[1];
    view.icon.setAttribute("aria-label", state[1]);
  }
  const refs = item.refs || [];
  if (!sameRefs(view, refs)) renderRefs(view, refs);
  // times are shown to the minute: their text changes once a minute at most
  const remaining = item.remaining_time;
  const eta = item.live !== false && remaining !== null && remaining !== undefined ? minutes(remaining) : -1;
  if (view._etaMinutes !== eta) {
    view._etaMinutes = eta;
    view.eta.textContent = eta < 0 ? "" : `ETA ${words(remaining)}`;
  }
  const age = at.now && item.enqueue_time ? minutes(at.now - item.enqueue_time) : -1;
  if (view._ageMinutes !== age) {
    view._ageMinutes = age;
    view.age.textContent = age < 0 ? "" : `Elapsed ${words(at.now - item.enqueue_time)}`;
  }
  if (view._failing !== "" || (item.failing_reasons && item.failing_reasons.length)) {
    setText(view, "_failing", view.failing, failingText(item, at.head, at.index));
    setHidden(view, "_failingHidden", view.failing, !view._failing);
  }

  const jobs = item.jobs || [];
  let names = view.jobNames;
  let listed = names !== undefined && names.length === jobs.length;
  for (let i = 0; listed && i < jobs.length; i++) listed = names[i] === jobs[i].name;
  let changed = !listed;
  if (!listed) {
    names = view.jobNames = jobs.map((job) => job.name);
    const kept = new Map();
    for (const name of names) kept.set(name, view.jobs.get(name) || createJob(name));
    view.jobs = kept;
    place(view.jobsEl, names.map((name) => kept.get(name).li));
  }
  for (let i = 0; i < jobs.length; i++) {
    if (updateJob(view.jobs.get(names[i]), jobs[i])) changed = true;
  }
  if (changed) {
    const shown = names.map((name) => view.jobs.get(name).shown);
    updateBar(view, shown);
    setText(view, "_summary", view.summary, jobsSummary(shown));
  }

  if (view.adminBox) {
    if (!view.adminFilled) {
      view.adminFilled = true;
      fillAdmin(view, at.pipeline, refs.length ? refLabel(refs[0]) : item.id);
    }
    if (view.promote) setHidden(view, "_promoteHidden", view.promote, !at.promotable);
  }
}

function updateBar(view, shown) {
  const segs = view.segs;
  while (segs.length < shown.length) {
    const seg = el("span", "seg");
    view.bar.append(seg);
    segs.push(seg);
  }
  while (segs.length > shown.length) segs.pop().remove();
  for (let i = 0; i < shown.length; i++) {
    setClass(segs[i], "_class", segs[i], `seg ${shown[i].state} ${shown[i].label}`);
  }
}

// --- jobs --------------------------------------------------------------------------------------

function createJob(name) {
  const li = el("li", "job");
  const link = el("a", "job-name", name);
  const nonvoting = el("span", "nonvoting", "non-voting");
  nonvoting.hidden = true;
  const state = el("span", "job-state");
  const progress = el("progress", "job-progress");
  progress.max = 100;
  const badge = el("a", "badge");
  state.append(progress, badge);
  li.append(link, " ", nonvoting, " ", state);
  return { li, link, nonvoting, progress, badge, _nonvoting: true, shown: null };
}

// Whether what the job shows in its item's bar and summary changed. Most
// updates change nothing of a job but how far it ran: then only the bar moves.
function updateJob(view, job) {
  const running = !job.result && !!job.uuid && job.start_time !== null && job.start_time !== undefined && !job.queued;
  const elapsed = job.elapsed_time || 0;
  const percent = running && job.estimated_time
    ? Math.min(100, Math.floor((100 * elapsed) / (job.estimated_time * 1000)))
    : null;
  const minute = running ? minutes(elapsed) : -1;
  if (
    view.shown !== null && view.k_result === job.result && view.k_uuid === job.uuid &&
    view.k_running === running && view.k_waiting === job.waiting_status &&
    view.k_voting === job.voting && view.k_minute === minute &&
    view.k_estimate === job.estimated_time && view.k_log === (job.report_url || job.url)
  ) {
    if (running && view.shown.percent !== percent) {
      view.shown.percent = percent;
      setAttr(view, "_value", view.progress, "value", percent === null ? null : String(percent));
    }
    return false;
  }
  view.k_result = job.result;
  view.k_uuid = job.uuid;
  view.k_running = running;
  view.k_waiting = job.waiting_status;
  view.k_voting = job.voting;
  view.k_minute = minute;
  view.k_estimate = job.estimated_time;
  view.k_log = job.report_url || job.url;
  const was = view.shown;
  const shown = (view.shown = jobShown(job, tenantPath));
  setClass(view, "_class", view.li, `job ${shown.state}`);
  setAttr(view, "_href", view.link, "href", shown.href);
  setAttr(view, "_title", view.link, "title", shown.title);
  setHidden(view, "_nonvoting", view.nonvoting, !shown.nonvoting);
  setHidden(view, "_progressHidden", view.progress, !running);
  setHidden(view, "_badgeHidden", view.badge, running);
  if (running) {
    // no value: the bar says "running" without a guess at how far
    setAttr(view, "_value", view.progress, "value", shown.percent === null ? null : String(shown.percent));
    setAttr(view, "_ptitle", view.progress, "title", shown.title);
  } else {
    setClass(view, "_bclass", view.badge, `badge ${shown.state} ${shown.label}`);
    setText(view, "_btext", view.badge, shown.label);
    setAttr(view, "_blog", view.badge, "href", shown.log);
    setAttr(view, "_btitle", view.badge, "title", shown.title);
  }
  return was === null || was.state !== shown.state || was.label !== shown.label;
}

// --- one update --------------------------------------------------------------------------------

let generation = 0;

function apply(doc) {
  if (first || fullRender) {
    // the server's rendering goes; from now on the elements are this script's
    first = false;
    pipelines = new Map();
    items = new Map();
    root.replaceChildren();
    root._placed = undefined;
  }
  lastDoc = doc;
  generation += 1;
  const sections = [];
  for (const pipeline of doc.pipelines || []) {
    let view = pipelines.get(pipeline.name);
    if (!view) {
      view = createPipeline(pipeline.name);
      pipelines.set(pipeline.name, view);
    }
    view.generation = generation;
    updatePipeline(view, pipeline, doc.now, generation);
    sections.push(view.section);
  }
  for (const [name, view] of pipelines) if (view.generation !== generation) pipelines.delete(name);
  place(root, sections);
  for (const [id, view] of items) if (view.generation !== generation) items.delete(id);
  setText(root, "_events", eventsCount, String((doc.trigger_event_queue || {}).length || 0));
  setText(root, "_results", resultsCount, String((doc.result_event_queue || {}).length || 0));
}

function setLive(state, text) {
  if (liveState.dataset.state !== state) liveState.dataset.state = state;
  if (liveState.textContent !== text) liveState.textContent = text;
}

const timeOfDay = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function clock(ms) {
  return timeOfDay.format(new Date(ms));
}

let timer = null;
let polling = false;

async function poll() {
  timer = null;
  if (document.hidden) {
    setLive("paused", "Paused while the page is hidden");
    return;
  }
  polling = true;
  try {
    const response = await fetch(apiUrl, { cache: "no-store", headers: { Accept: "application/json" } });
    const body = await response.text();
    if (!response.ok) throw new Error(body.trim() || `${response.status}`);
    const t0 = performance.now();
    const doc = JSON.parse(body);
    const t1 = performance.now();
    apply(doc);
    const t2 = performance.now();
    void root.offsetHeight; // style and layout now, inside the measured update
    const t3 = performance.now();
    timings.push({ parse: t1 - t0, update: t2 - t1, layout: t3 - t2, total: t3 - t1 });
    if (timings.length > KEEP_TIMINGS) timings.shift();
    window.lockgateStatus.updates += 1;
    root.dataset.updates = String(window.lockgateStatus.updates);
    setLive("live", `Live · updated ${clock(doc.now || Date.now())}`);
  } catch (error) {
    setLive("error", `Not updating (${error.message}): trying again`);
  }
  polling = false;
  schedule();
}

function schedule() {
  if (timer === null && !document.hidden) timer = setTimeout(poll, INTERVAL_MS);
}

// --- the controls ------------------------------------------------------------------------------

function readFilter() {
  const hash = location.hash.startsWith("#q=") ? decodeURIComponent(location.hash.slice(3)) : "";
  if (hash && filterBox && !filterBox.value) filterBox.value = hash; // Zuul's old links
  return filterBox ? filterBox.value : "";
}

function setTerms(text) {
  terms = text.toLowerCase().split(/[\s,]+/).filter(Boolean);
}

if (filterBox) {
  setTerms(readFilter());
  filterBox.form.addEventListener("submit", (event) => event.preventDefault());
  filterBox.addEventListener("input", () => {
    setTerms(filterBox.value);
    const url = new URL(location.href);
    url.hash = "";
    if (filterBox.value) url.searchParams.set("filter", filterBox.value);
    else url.searchParams.delete("filter");
    history.replaceState(null, "", url);
    if (lastDoc) apply(lastDoc);
  });
}

if (expandBox) {
  expandBox.checked = expandDefault;
  expandBox.addEventListener("change", () => {
    expandDefault = expandBox.checked;
    try {
      localStorage.setItem(EXPAND_KEY, expandDefault ? "1" : "0");
    } catch (e) {
      // not kept: this page still follows the box
    }
    for (const view of items.values()) view.details.open = expandDefault;
  });
}

// A dequeue asks first, as Zuul's does; the forms post without a script too.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (message && !window.confirm(message)) event.preventDefault();
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && timer === null && !polling) poll();
});

poll();
