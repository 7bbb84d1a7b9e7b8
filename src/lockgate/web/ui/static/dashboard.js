// Marks the open changes of a change table that would not merge into their
// branch now ("Merge conflict"), asking the REST API's mergeable endpoint for
// each, a few at a time. Without JavaScript the table is the same, unmarked.

const PARALLEL = 3;
const XSSI = ")]}'";

async function mergeable(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) return null;
  let text = await response.text();
  if (text.startsWith(XSSI)) text = text.slice(XSSI.length);
  return JSON.parse(text).mergeable;
}

function markConflict(row) {
  const cell = row.querySelector("td.status");
  if (!cell || cell.querySelector(".chip.conflict")) return;
  const chip = document.createElement("span");
  chip.className = "chip conflict";
  chip.textContent = "Merge conflict";
  chip.title = "This change does not merge into its branch as it is now: rebase it";
  cell.prepend(chip);
}

async function worker(queue) {
  while (queue.length) {
    const row = queue.shift();
    try {
      if ((await mergeable(row.dataset.mergeable)) === false) markConflict(row);
    } catch (error) {
      // A change that cannot be asked about stays unmarked; the page is still right.
    }
  }
}

const rows = [...document.querySelectorAll("tr[data-mergeable]")];
const queue = [...new Map(rows.map((row) => [row.dataset.mergeable, row])).values()];
for (let i = 0; i < PARALLEL; i += 1) worker(queue);
