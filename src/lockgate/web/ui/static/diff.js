// The diff page without reloads: folded lines expand in place, a click on a
// line number or on Reply opens a draft form right there, Edit opens a draft's
// form, and [ ] u move between files as in Gerrit. Every link keeps working
// without this script (it loads the page with the form open).

const forms = document.getElementById("diff-forms");

// The page with the whole file, fetched once when a fold is first opened.
let wholeFile = null;

function rangeOf(text) {
  if (!text) return null;
  const [from, to] = text.split("-").map(Number);
  return { from, to };
}

function lineOf(row, side) {
  const link = row.querySelector(`td.num [id^="${side}"]`);
  return link ? Number(link.id.slice(1)) : null;
}

// The rows of the fold's lines (with their thread rows) from the whole file.
function rowsFor(doc, link) {
  const ranges = { a: rangeOf(link.dataset.linesA), b: rangeOf(link.dataset.linesB) };
  const picked = [];
  let inside = false;
  for (const row of doc.querySelectorAll("table.diff tbody tr")) {
    if (row.classList.contains("thread-row")) {
      if (inside) picked.push(row);
      continue;
    }
    inside = ["a", "b"].some((side) => {
      const range = ranges[side];
      const line = lineOf(row, side);
      return range && line !== null && range.from <= line && line <= range.to;
    });
    if (inside) picked.push(row);
  }
  return picked;
}

async function unfold(link) {
  const bar = link.closest("tbody");
  try {
    wholeFile = wholeFile || fetch(link.href.split("#")[0], { credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(`${response.status}`);
        return response.text();
      })
      .then((html) => new DOMParser().parseFromString(html, "text/html"));
    const rows = rowsFor(await wholeFile, link);
    if (!rows.length) throw new Error("no lines");
    const body = document.createElement("tbody");
    body.className = "unfolded";
    body.append(...rows.map((row) => document.importNode(row, true)));
    bar.replaceWith(body);
  } catch {
    wholeFile = null;
    window.location.assign(link.href);
  }
}

function columnsOf(row) {
  return row.closest("table").dataset.mode === "unified" ? 3 : 4;
}

// The row under `row` that holds threads, made when missing.
function threadRow(row) {
  let next = row.nextElementSibling;
  if (next && next.classList.contains("thread-row")) return next;
  next = document.createElement("tr");
  next.className = "thread-row";
  if (columnsOf(row) === 4) {
    for (const side of ["a", "b"]) {
      const cell = document.createElement("td");
      cell.colSpan = 2;
      cell.className = `threads-${side}`;
      next.append(cell);
    }
  } else {
    const cell = document.createElement("td");
    cell.colSpan = 3;
    next.append(cell);
  }
  row.after(next);
  return next;
}

function fromTemplate(id) {
  const template = document.getElementById(id);
  return template.content.firstElementChild.cloneNode(true);
}

function closeWith(form, cleanup) {
  form.querySelector("button.cancel").addEventListener("click", () => {
    form.remove();
    if (cleanup) cleanup();
  });
}

function openDraft(link) {
  const side = link.id.slice(0, 1);
  const line = link.id.slice(1);
  const data = forms.dataset;
  const row = link.closest("tr");
  const holder = threadRow(row);
  const cell = holder.querySelector(`.threads-${side}`) || holder.firstElementChild;
  const open = cell.querySelector(`form[data-at="${side}:${line}"]`);
  if (open) {
    open.querySelector("textarea").focus();
    return;
  }
  const form = fromTemplate("tpl-new-draft");
  form.dataset.at = `${side}:${line}`;
  form.elements.patch_set.value = data[`${side}Ps`];
  form.elements.path.value = data[`${side}Path`];
  form.elements.side.value = data[`${side}Side`];
  form.elements.line.value = line;
  form.querySelector("textarea").placeholder = `Comment on line ${line}`;
  cell.append(form);
  closeWith(form, () => {
    if (!holder.querySelector(".thread, form")) holder.remove();
  });
  form.querySelector("textarea").focus();
}

function openReply(link) {
  const thread = link.closest(".thread");
  const open = thread.querySelector("form.reply-form");
  if (open) {
    open.querySelector("textarea").focus();
    return;
  }
  const form = fromTemplate("tpl-reply");
  form.elements.in_reply_to.value = link.dataset.replyTo;
  form.elements.thread.value = link.dataset.reply;
  form.elements.resolved.checked = link.dataset.resolved === "true";
  form.action = `${forms.dataset.action}#t-${link.dataset.reply}`;
  thread.append(form);
  closeWith(form);
  form.querySelector("textarea").focus();
}

function openEdit(link) {
  const article = link.closest("article");
  const form = article.querySelector(`[data-edit-form="${link.dataset.edit}"]`);
  article.querySelector(".message").hidden = true;
  article.querySelector(".draft-actions").hidden = true;
  form.hidden = false;
  form.querySelector("textarea").focus();
  const cancel = form.querySelector(".cancel");
  cancel.addEventListener("click", (event) => {
    event.preventDefault();
    form.hidden = true;
    article.querySelector(".message").hidden = false;
    article.querySelector(".draft-actions").hidden = false;
  }, { once: true });
}

document.addEventListener("click", (event) => {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const target = event.target.closest("a");
  if (!target) return;
  if (target.dataset.fold !== undefined) {
    event.preventDefault();
    unfold(target);
  } else if (forms && target.classList.contains("ln")) {
    event.preventDefault();
    openDraft(target);
  } else if (forms && target.dataset.reply) {
    event.preventDefault();
    openReply(target);
  } else if (target.dataset.edit) {
    event.preventDefault();
    openEdit(target);
  }
});

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input, textarea, select")) return;
  const go = { "[": "prev-file", "]": "next-file", u: "up-to-change" }[event.key];
  const link = go && document.getElementById(go);
  if (link) {
    event.preventDefault();
    window.location.assign(link.href);
  }
});
