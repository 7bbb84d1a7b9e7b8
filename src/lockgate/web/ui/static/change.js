// The change page's live parts. Without this script the page still works:
// "Toggle CI" is a link to ?ci=hide / ?ci=show, "Reply…" a link to the form.

const STORE = "lockgate.ci-hidden";

function remembered() {
  try {
    return window.localStorage.getItem(STORE) === "1";
  } catch {
    return false; // storage refused (private mode): the toggle still works
  }
}

function remember(hidden) {
  try {
    window.localStorage.setItem(STORE, hidden ? "1" : "0");
  } catch {
    // nothing to keep it in
  }
}

function setCiHidden(history, toggle, hidden) {
  history.classList.toggle("ci-hidden", hidden);
  for (const message of history.querySelectorAll(".msg.ci")) {
    message.hidden = hidden;
  }
  const count = toggle.dataset.ciCount || "0";
  const label = toggle.querySelector(".ci-count");
  if (label) label.textContent = `${hidden ? "hidden" : "shown"}: ${count}`;
  // The link stays right for a middle click, the address bar for a reload.
  const base = toggle.dataset.base || window.location.pathname;
  toggle.href = `${base}?ci=${hidden ? "show" : "hide"}#history`;
  window.history.replaceState(null, "", `${base}?ci=${hidden ? "hide" : "show"}${window.location.hash}`);
}

function setUpCiToggle() {
  const history = document.getElementById("history");
  const toggle = history && history.querySelector(".toggle-ci");
  if (!history || !toggle) return;
  const asked = new URL(window.location.href).searchParams.get("ci");
  if (asked === null && remembered()) setCiHidden(history, toggle, true);
  toggle.addEventListener("click", (event) => {
    event.preventDefault();
    const hidden = !history.classList.contains("ci-hidden");
    setCiHidden(history, toggle, hidden);
    remember(hidden);
  });
}

function setUpReply() {
  const message = document.getElementById("reply-message");
  if (!message) return;
  for (const link of document.querySelectorAll('a[href="#reply"]')) {
    link.addEventListener("click", () => window.setTimeout(() => message.focus(), 0));
  }
}

setUpCiToggle();
setUpReply();
