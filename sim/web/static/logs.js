// The link's logs: AT traffic and MQTT messages as filterable lists, the device shadow,
// and the serial console. Each keeps a bounded history and renders only what passes its
// filter; a list follows its end unless the reader scrolled up.

const MAX_ROWS = 3000;

export function formatT(t) {
  return t == null || !isFinite(t) ? "" : Number(t).toFixed(3);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

/** A bounded, filterable list of log entries, each drawn by ``render(entry)``. */
export class LogView {
  constructor(list, { render, matches, counter }) {
    this.list = list;
    this.render = render;
    this.matches = matches;
    this.counter = counter;
    this.entries = [];
    this.waiting = []; // entries not drawn yet
    this.scheduled = false;
  }

  add(entry) {
    this.entries.push(entry);
    this.waiting.push(entry);
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  /** Draws what arrived since the last animation frame (one layout per frame, not per line). */
  flush() {
    this.scheduled = false;
    const waiting = this.waiting;
    this.waiting = [];
    if (this.entries.length > MAX_ROWS * 1.25) this.entries.splice(0, this.entries.length - MAX_ROWS);
    const follow = this.atEnd();
    const frag = document.createDocumentFragment();
    for (const entry of waiting) if (this.matches(entry)) frag.appendChild(this.render(entry));
    this.list.appendChild(frag);
    let extra = this.list.childElementCount - MAX_ROWS;
    while (extra-- > 0) this.list.firstElementChild.remove();
    if (follow) this.list.scrollTop = this.list.scrollHeight;
    this.count();
  }

  /** Replaces every entry (replay: the log up to the chosen time). */
  reset(entries) {
    this.entries = entries.slice(-MAX_ROWS);
    this.waiting = [];
    this.refresh(true);
  }

  refresh(toEnd = false) {
    const follow = toEnd || this.atEnd();
    const frag = document.createDocumentFragment();
    for (const entry of this.entries) if (this.matches(entry)) frag.appendChild(this.render(entry));
    this.list.replaceChildren(frag);
    if (follow) this.list.scrollTop = this.list.scrollHeight;
    this.count();
  }

  atEnd() {
    const l = this.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 24;
  }

  count() {
    if (this.counter) this.counter.textContent = String(this.list.childElementCount);
  }
}

/** The AT log: commands, responses and events, with checkboxes and a text filter. */
export function atLog(root, counter) {
  const boxes = [...root.querySelectorAll("input[data-dir]")];
  const text = root.querySelector("input[type=search]");
  const view = new LogView(root.querySelector(".log"), {
    counter,
    matches: (e) => {
      const shown = boxes.find((b) => b.dataset.dir === e.dir);
      if (shown && !shown.checked) return false;
      const needle = text.value.trim().toLowerCase();
      return !needle || e.line.toLowerCase().includes(needle);
    },
    render: (e) => {
      const row = el("div", `row at-${e.dir}`);
      row.append(el("span", "t", formatT(e.t)),
        el("span", "dir", { command: "→", response: "←", event: "⚑" }[e.dir] || "?"),
        el("span", "line", e.line));
      row.title = e.dir;
      return row;
    },
  });
  for (const b of boxes) b.addEventListener("change", () => view.refresh());
  text.addEventListener("input", () => view.refresh());
  return view;
}

function payloadText(e) {
  if (!e.base64) return String(e.payload ?? "");
  return `(binary, base64) ${String(e.payload ?? "").slice(0, 96)}${String(e.payload ?? "").length > 96 ? "…" : ""}`;
}

/** MQTT messages in and out. */
export function mqttLog(root, counter) {
  const boxes = [...root.querySelectorAll("input[data-dir]")];
  const text = root.querySelector("input[type=search]");
  const view = new LogView(root.querySelector(".log"), {
    counter,
    matches: (e) => {
      const shown = boxes.find((b) => b.dataset.dir === e.dir);
      if (shown && !shown.checked) return false;
      const needle = text.value.trim().toLowerCase();
      return !needle || e.topic.toLowerCase().includes(needle) || payloadText(e).toLowerCase().includes(needle);
    },
    render: (e) => {
      const row = el("div", `row mqtt-${e.dir}`);
      const payload = payloadText(e);
      const shown = payload.length > 400 ? `${payload.slice(0, 400)}…` : payload;
      row.append(el("span", "t", formatT(e.t)),
        el("span", "dir", e.dir === "out" ? "↑ out" : "↓ in"),
        el("span", "topic", e.topic),
        el("span", "size", `${e.size ?? payload.length} B`),
        el("span", "payload", shown));
      return row;
    },
  });
  for (const b of boxes) b.addEventListener("change", () => view.refresh());
  text.addEventListener("input", () => view.refresh());
  return view;
}

/** The console: the badge's printed lines. */
export function consoleLog(root) {
  return new LogView(root.querySelector(".log"), {
    matches: () => true,
    render: (e) => {
      const row = el("div", "row");
      row.append(el("span", "t", formatT(e.t)), el("span", "line", e.text));
      return row;
    },
  });
}

/** The device shadow's desired and reported state. */
export class ShadowView {
  constructor(root) {
    this.desired = root.querySelector(".desired");
    this.reported = root.querySelector(".reported");
    this.version = root.querySelector(".version");
    this.last = null;
  }

  show(message) {
    this.last = message;
    this.desired.textContent = message ? JSON.stringify(message.desired ?? null, null, 2) : "–";
    this.reported.textContent = message ? JSON.stringify(message.reported ?? null, null, 2) : "–";
    this.version.textContent = message && message.version != null
      ? `version ${message.version} at ${formatT(message.t)} s` : "no shadow yet";
  }
}
