// The badge page: one WebSocket to the simulator (sim/web/protocol.md), the OLED in the
// middle, the controls around it. `window.badgePage` exposes the page's state to the
// browser tests and the bench (the last painted frame, counters, the plot's readings).

import { Oled, decodeBinaryFrame, decodeJsonFrame, fitCrisp, WIDTH, HEIGHT } from "./oled.js";
import { ClimatePlot, HeapPlot } from "./plots.js";
import { atLog, mqttLog, consoleLog, ShadowView, formatT } from "./logs.js";
import { ContentPanel } from "./content.js";
import { Replay } from "./replay.js";

const $ = (id) => document.getElementById(id);
const RATES = ["paused", 1, 10, 100, "max"];
const NOTICE_MS = { info: 6000, error: 15000 };
const PAINT_HISTORY = 500;

const page = {
  hello: null,
  clock: null,
  clockCount: 0, // clock messages so far (tests wait for a few, not for seconds)
  shadow: null, // the last shadow message
  connected: false,
  lastFrame: null, // the last frame painted: {t, flags, contrast, on, pixels}
  framesReceived: 0,
  framesPainted: 0,
  paints: [], // [{t, at_ms}]: simulated time of each painted frame, and when (epoch ms)
  notices: [], // every notice shown: {level, text, about}
  module: null,
  faults: {},
  ended: null,
  replay: null,
};
window.badgePage = page;

// ---- the OLED ----------------------------------------------------------------------

const oled = new Oled($("oled"));
fitCrisp($("oled"), $("glass"));
oled.onPaint = (frame, atMs) => {
  page.lastFrame = frame;
  page.framesPainted += 1;
  page.paints.push({ t: frame.t, at_ms: atMs });
  if (page.paints.length > PAINT_HISTORY) page.paints.splice(0, page.paints.length - PAINT_HISTORY);
  $("glass").classList.toggle("off", !frame.on);
  const parts = [frame.on ? "display on" : "display off"];
  if (frame.on) parts.push(`contrast ${frame.contrast}`);
  if (frame.inverted) parts.push("inverted");
  if (frame.entireOn) parts.push("entire display on");
  parts.push(`frame at ${formatT(frame.t)} s`);
  $("panel-state").textContent = parts.join(" · ");
};

/** The canvas read back, 1 where a pixel is lit, row-major (tests compare it). */
page.canvasPixels = () => {
  const data = oled.ctx.getImageData(0, 0, WIDTH, HEIGHT).data;
  const out = new Array(WIDTH * HEIGHT);
  for (let i = 0; i < out.length; i++) out[i] = data[i * 4] + data[i * 4 + 1] + data[i * 4 + 2] > 110 ? 1 : 0;
  return out;
};

// ---- the connection ----------------------------------------------------------------

let socket = null;
let retryMs = 250;

function connect() {
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => {
    retryMs = 250;
    setConnected(true);
  });
  socket.addEventListener("message", (event) => {
    if (typeof event.data === "string") {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      handle(message);
    } else {
      frameArrived(decodeBinaryFrame(event.data));
    }
  });
  socket.addEventListener("close", () => {
    setConnected(false);
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 3000);
  });
}

function setConnected(on) {
  page.connected = on;
  const conn = $("conn");
  conn.textContent = on ? "connected" : "disconnected";
  conn.className = `pill conn ${on ? "ok" : "bad"}`;
  const banner = $("banner");
  if (on) {
    banner.hidden = true;
  } else {
    banner.hidden = false;
    banner.textContent = page.ended
      ? `The run is over (${page.ended.reason}); the simulator is gone. Reconnecting when it is back…`
      : "Disconnected from the simulator, reconnecting…";
  }
}

/** Sends one op; false (and a notice) when the page is not connected. */
function send(op) {
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    notice({ level: "error", text: `not connected: "${op.op}" was not sent`, about: op.op });
    return false;
  }
  socket.send(JSON.stringify(op));
  return true;
}
page.send = send;

// ---- notices -----------------------------------------------------------------------

function notice(message) {
  page.notices.push(message);
  const box = document.createElement("div");
  box.className = `notice ${message.level === "error" ? "error" : "info"}`;
  box.setAttribute("role", message.level === "error" ? "alert" : "status");
  const text = document.createElement("span");
  text.textContent = message.text;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.title = "dismiss";
  close.addEventListener("click", () => box.remove());
  box.append(text, close);
  $("notices").appendChild(box);
  setTimeout(() => box.remove(), NOTICE_MS[message.level] || NOTICE_MS.info);
}

// ---- messages ----------------------------------------------------------------------

const plot = new ClimatePlot($("climate-plot"));
const heapPlot = new HeapPlot($("heap-plot"));
page.plot = plot;
page.plotReadings = () => plot.readings();
const atView = atLog($("tab-at"), $("at-count"));
const mqttView = mqttLog($("tab-mqtt"), $("mqtt-count"));
const consoleView = consoleLog($("tab-console"));
const shadowView = new ShadowView($("tab-shadow"));
const content = new ContentPanel(send);
page.logs = { at: atView, mqtt: mqttView, console: consoleView };

function frameArrived(frame) {
  if (!frame || page.hello?.mode === "replay") return;
  page.framesReceived += 1;
  oled.show(frame);
}

const handlers = {
  hello(m) {
    page.hello = m;
    $("thing").textContent = m.thing || "–";
    $("link-thing").textContent = m.thing || "–";
    $("engine").textContent = m.engine === "circuitpython" ? `CircuitPython ${m.cp || ""} (rp2040js)` : `CPython engine · CircuitPython ${m.cp || ""} rules`;
    document.body.classList.toggle("replay", m.mode === "replay");
    $("mode").hidden = m.mode !== "replay";
    showPages(m.pages);
    buildFaults(m.faults || []);
    setTimeControl(m.time_control !== false, m.engine);
    setConsole(m.engine);
    if (m.mode === "replay") startReplay();
  },
  clock(m) {
    if (page.hello?.mode === "replay") return;
    page.clock = m;
    page.clockCount += 1;
    showClock(m.t, m.rate, m.speed);
    if (m.heap_free != null) {
      $("heap-box").hidden = false;
      $("heap-now").textContent = `${m.heap_free} bytes`;
      heapPlot.add(m.t, m.heap_free);
    }
  },
  climate(m) {
    setSlider("temperature", m.temperature_c, 1);
    setSlider("humidity", m.humidity_rh, 1);
    plot.setPoint(m.t, m.temperature_c, m.humidity_rh);
  },
  reading(m) {
    plot.reading(m.t, m.temperature_c, m.humidity_rh);
    showLastReading(m);
  },
  at(m) { atView.add(m); },
  mqtt(m) { mqttView.add(m); },
  shadow(m) {
    page.shadow = m;
    shadowView.show(m);
  },
  module(m) { showModule(m.state); },
  console(m) { consoleView.add(m); },
  faults(m) { showFaults(m.on || {}); },
  notice(m) {
    if (m.about === "pages" && m.pages != null) {
      showPages(m.pages);
      if (m.pages < 2 && m.level !== "error") return; // "the only page open": nothing to say
    }
    content.notice(m);
    notice(m);
  },
  qr_fit(m) { content.qrFit(m); },
  sent(m) { content.sent(m); },
  ended(m) {
    page.ended = m;
    notice({ level: "info", text: `the run is over at ${formatT(m.t)} s: ${m.reason}` });
  },
  frame(m) { frameArrived(decodeJsonFrame(m)); },
};

function showLastReading(m) {
  $("last-reading").textContent = m == null ? "no reading yet"
    : `last reading ${Number(m.temperature_c).toFixed(2)} °C, ${Number(m.humidity_rh).toFixed(1)} %RH`
      + ` at ${formatT(m.t)} s${m.seq != null ? ` (#${m.seq})` : ""}`;
}

function showPages(count) {
  const pill = $("pages");
  pill.hidden = !(count > 1);
  pill.textContent = `${count} pages are open`;
  pill.title = "every open page sees and controls the same badge";
}

function handle(message) {
  const handler = handlers[message.type];
  if (handler) handler(message);
}

// ---- buttons -----------------------------------------------------------------------

function press(button) {
  const node = document.querySelector(`.hw[data-button="${button}"]`);
  node.classList.add("down");
  setTimeout(() => node.classList.remove("down"), 150);
  send({ op: "press", button });
}
page.press = press;

for (const node of document.querySelectorAll(".hw")) {
  node.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    press(node.dataset.button);
  });
  node.addEventListener("click", (e) => { if (e.detail === 0) press(node.dataset.button); }); // keyboard
}

document.addEventListener("keydown", (e) => {
  if (e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.target.closest("input, textarea, select, [contenteditable]")) return;
  const button = { a: "A", b: "B", c: "C" }[e.key.toLowerCase()];
  if (button && page.hello?.mode !== "replay") press(button);
});

// ---- climate -----------------------------------------------------------------------

const dragging = { temperature: false, humidity: false };

function setSlider(id, value, digits) {
  if (value == null) return;
  $(`${id}-out`).textContent = Number(value).toFixed(digits);
  if (!dragging[id]) $(id).value = String(value);
}

function wireSlider(id, field, digits) {
  const input = $(id);
  let timer = null;
  const flush = () => {
    timer = null;
    send({ op: "climate", [field]: Number(input.value) });
  };
  input.addEventListener("pointerdown", () => { dragging[id] = true; });
  input.addEventListener("pointerup", () => { dragging[id] = false; });
  input.addEventListener("input", () => {
    $(`${id}-out`).textContent = Number(input.value).toFixed(digits);
    if (!timer) timer = setTimeout(flush, 100);
  });
  input.addEventListener("change", () => {
    dragging[id] = false;
    clearTimeout(timer);
    flush();
  });
}
wireSlider("temperature", "temperature_c", 1);
wireSlider("humidity", "humidity_rh", 1);

// ---- time --------------------------------------------------------------------------

function clockText(t) {
  if (t == null) return "–";
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t - h * 3600 - m * 60;
  return `${h}:${String(m).padStart(2, "0")}:${s.toFixed(3).padStart(6, "0")}`;
}

function showClock(t, rate, speed) {
  $("clock-t").textContent = clockText(t);
  const speedText = speed != null && isFinite(speed) ? ` · running at ${Number(speed).toFixed(speed < 10 ? 2 : 0)}x real time` : "";
  $("clock-rate").textContent = rate == null ? "" : `${rate === "paused" ? "paused" : rate === "max" ? "as fast as possible" : `${rate}x`}${rate === "paused" ? "" : speedText}`;
  for (const b of document.querySelectorAll("#rates [data-rate]")) {
    b.classList.toggle("on", String(rate) === b.dataset.rate);
  }
  $("step").disabled = !page.hello?.time_control || rate !== "paused";
}

function setTimeControl(on, engine) {
  for (const b of document.querySelectorAll("#rates button")) b.disabled = !on;
  const note = $("time-note");
  note.hidden = on;
  if (!on) {
    note.textContent = engine === "circuitpython"
      ? "The CircuitPython engine runs on the emulated RP2040's own time, never ahead of real time (behind it when this computer cannot emulate that fast): pause, step and rates need the CPython engine. The clock shows emulated time and its speed; the free heap is plotted below as the badge reports it."
      : "This simulator does not offer time control.";
  }
}

for (const b of document.querySelectorAll("#rates [data-rate]")) {
  b.addEventListener("click", () => {
    const rate = RATES.find((r) => String(r) === b.dataset.rate);
    send({ op: "time", rate });
  });
}
$("step").addEventListener("click", () => send({ op: "step" }));

// ---- faults ------------------------------------------------------------------------

function buildFaults(list) {
  const box = $("faults");
  box.replaceChildren();
  if (!list.length) {
    box.textContent = "no faults offered";
    return;
  }
  for (const f of list) {
    const row = document.createElement("div");
    row.className = "fault";
    row.dataset.fault = f.name;
    if (f.momentary) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = f.label || f.name;
      b.title = `${f.name}: acts once`;
      b.addEventListener("click", () => send({ op: "fault", name: f.name, on: true }));
      row.append(b);
    } else {
      const label = document.createElement("label");
      label.className = "switch";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = f.name;
      input.addEventListener("change", () => send({ op: "fault", name: f.name, on: input.checked }));
      const text = document.createElement("span");
      text.textContent = f.label || f.name;
      label.append(input, text);
      row.append(label);
    }
    box.append(row);
  }
  if (page.hello?.mode === "replay") for (const node of box.querySelectorAll("input, button")) node.disabled = true;
  showFaults(page.faults);
}

function showFaults(on) {
  page.faults = { ...on };
  let active = 0;
  for (const row of document.querySelectorAll(".fault")) {
    const isOn = !!on[row.dataset.fault];
    const input = row.querySelector("input");
    if (input) input.checked = isOn;
    row.classList.toggle("active", isOn);
    if (isOn) active += 1;
  }
  $("faults-card").classList.toggle("faulty", active > 0);
}

// ---- the link ----------------------------------------------------------------------

function showModule(state) {
  page.module = state;
  const pill = $("module-state");
  pill.textContent = state || "–";
  pill.className = `pill module-${state}`;
}

for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll("[data-tab]")) {
      other.setAttribute("aria-selected", String(other === tab));
      $(`tab-${other.dataset.tab}`).hidden = other !== tab;
    }
    const log = $(`tab-${tab.dataset.tab}`).querySelector(".log");
    if (log) log.scrollTop = log.scrollHeight;
  });
}

// ---- the console -------------------------------------------------------------------

function setConsole(engine) {
  const typing = engine === "circuitpython";
  $("console-input").disabled = !typing;
  $("console-send").disabled = !typing;
  $("ctrl-c").disabled = !typing;
  $("ctrl-d").disabled = !typing;
  const note = $("console-note");
  note.hidden = typing;
  note.textContent = "Typing into the console needs the CircuitPython engine (make sim ENGINE=circuitpython); reload works on both.";
}

$("console-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("console-input");
  if (send({ op: "console", text: `${input.value}\r` })) input.value = "";
});
$("ctrl-c").addEventListener("click", () => send({ op: "console", text: "\u0003" }));
$("ctrl-d").addEventListener("click", () => send({ op: "console", text: "\u0004" }));
$("reload").addEventListener("click", () => send({ op: "reload" }));

// ---- replay ------------------------------------------------------------------------

/** Shows ``entries`` (a recording's messages up to the replay's time) in a log: only the
 * new ones when the time moved forward, all of them when it went back. */
function syncLog(view, entries) {
  const shown = view.replayShown || [];
  if (entries.length === shown.length && entries[entries.length - 1] === shown[shown.length - 1]) return;
  if (entries.length > shown.length && entries[shown.length - 1] === shown[shown.length - 1]) {
    for (const entry of entries.slice(shown.length)) view.add(entry);
    view.flush(); // now: the log matches the timeline when seek() returns
  } else {
    view.reset(entries);
  }
  view.replayShown = entries;
}

function startReplay() {
  if (page.replay) return;
  $("replay-card").hidden = false;
  $("time-card").hidden = true;
  for (const node of document.querySelectorAll(".hw, #climate-card input, #content-card button, #content-card input, #content-card select, #faults input, #faults button, #console-form input, #console-form button")) {
    node.disabled = true;
  }
  const replay = new Replay({
    frame(frame) {
      if (frame) oled.paint(frame);
      else { oled.paintDark(); page.lastFrame = null; }
    },
    state(r) {
      syncLog(atView, r.upTo("at"));
      syncLog(mqttView, r.upTo("mqtt"));
      syncLog(consoleView, r.upTo("console"));
      const shadows = r.upTo("shadow");
      shadowView.show(shadows[shadows.length - 1] || null);
      const modules = r.upTo("module");
      showModule(modules.length ? modules[modules.length - 1].state : null);
      const faults = r.upTo("faults");
      showFaults(faults.length ? faults[faults.length - 1].on : {});
      const set = r.upTo("climate");
      if (set.length) {
        setSlider("temperature", set[set.length - 1].temperature_c, 1);
        setSlider("humidity", set[set.length - 1].humidity_rh, 1);
      }
      const readings = r.upTo("reading");
      showLastReading(readings[readings.length - 1]);
      plot.clear();
      const climate = [...r.upTo("climate"), ...r.upTo("reading")].sort((a, b) => a.t - b.t);
      for (const m of climate) {
        if (m.type === "climate") plot.setPoint(m.t, m.temperature_c, m.humidity_rh);
        else plot.reading(m.t, m.temperature_c, m.humidity_rh);
      }
    },
  });
  page.replay = replay;
  replay.load().then(() => { page.replayLoaded = true; }).catch((err) => notice({ level: "error", text: err.message }));
}

connect();
