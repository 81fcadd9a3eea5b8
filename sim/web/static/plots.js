// The page's two plots, with uPlot (served from /static/vendor/): the climate (the badge's
// readings as the broker received them, and what the sensor is set to) and the free heap
// (CircuitPython engine). The x axis is simulated time in seconds.

import uPlot from "/static/vendor/uPlot.esm.js";

const MAX_POINTS = 2000;

function sizeTo(plot, box, height) {
  const resize = () => plot.setSize({ width: Math.max(200, box.clientWidth), height });
  new ResizeObserver(resize).observe(box);
  resize();
}

function secondsAxis() {
  return {
    stroke: "#9aa7b4",
    grid: { stroke: "#26303a" },
    ticks: { stroke: "#26303a" },
    values: (u, splits) => splits.map((s) => formatSeconds(s)),
  };
}

export function formatSeconds(s) {
  if (s == null || !isFinite(s)) return "";
  if (s < 120) return `${+s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s - m * 60)).padStart(2, "0")}`;
}

/** Readings (points joined by lines) and set values (steps), °C on the left, %RH right. */
export class ClimatePlot {
  constructor(box) {
    this.box = box;
    this.data = [[], [], [], [], []]; // t, reading °C, set °C, reading %RH, set %RH
    this.setT = null;
    this.setRh = null;
    const opts = {
      width: 400, height: 220,
      scales: { x: { time: false }, C: {}, RH: { range: [0, 100] } },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      axes: [
        secondsAxis(),
        { scale: "C", stroke: "#ffb36b", grid: { stroke: "#26303a" }, ticks: { stroke: "#26303a" },
          values: (u, v) => v.map((x) => `${x}°`) },
        { scale: "RH", side: 1, stroke: "#6bc7ff", grid: { show: false }, ticks: { stroke: "#26303a" },
          values: (u, v) => v.map((x) => `${x}%`) },
      ],
      series: [
        { label: "t", value: (u, v) => formatSeconds(v) },
        { label: "reading °C", scale: "C", stroke: "#ff9b3d", width: 2, spanGaps: true,
          points: { show: true, size: 5, fill: "#ff9b3d" }, value: (u, v) => (v == null ? "–" : v.toFixed(2)) },
        { label: "set °C", scale: "C", stroke: "#ff9b3d88", width: 1, dash: [4, 4],
          paths: uPlot.paths.stepped({ align: 1 }), spanGaps: true, points: { show: false },
          value: (u, v) => (v == null ? "–" : v.toFixed(1)) },
        { label: "reading %RH", scale: "RH", stroke: "#3db4ff", width: 2, spanGaps: true,
          points: { show: true, size: 5, fill: "#3db4ff" }, value: (u, v) => (v == null ? "–" : v.toFixed(1)) },
        { label: "set %RH", scale: "RH", stroke: "#3db4ff88", width: 1, dash: [4, 4],
          paths: uPlot.paths.stepped({ align: 1 }), spanGaps: true, points: { show: false },
          value: (u, v) => (v == null ? "–" : v.toFixed(1)) },
      ],
    };
    this.plot = new uPlot(opts, this.data, box);
    sizeTo(this.plot, box, 220);
    this.dirty = false;
  }

  clear() {
    this.data = [[], [], [], [], []];
    this.setT = null;
    this.setRh = null;
    this.plot.setData(this.data);
  }

  /** The sensor's set values changed (a `climate` message). */
  setPoint(t, temperatureC, humidityRh) {
    if (temperatureC != null) this.setT = temperatureC;
    if (humidityRh != null) this.setRh = humidityRh;
    this.push([t, null, this.setT, null, this.setRh]);
  }

  /** A reading the badge published (a `reading` message). */
  reading(t, temperatureC, humidityRh) {
    this.push([t, temperatureC, this.setT, humidityRh, this.setRh]);
  }

  push(row) {
    const d = this.data;
    // keep x sorted: messages can arrive a little out of order across kinds
    let at = d[0].length;
    while (at > 0 && d[0][at - 1] > row[0]) at--;
    for (let i = 0; i < d.length; i++) d[i].splice(at, 0, row[i]);
    if (d[0].length > MAX_POINTS) for (const col of d) col.splice(0, col.length - MAX_POINTS);
    this.schedule();
  }

  /** Readings now in the plot: [{t, temperature_c, humidity_rh}]. */
  readings() {
    const d = this.plot.data;
    const out = [];
    for (let i = 0; i < d[0].length; i++) {
      if (d[1][i] != null) out.push({ t: d[0][i], temperature_c: d[1][i], humidity_rh: d[3][i] });
    }
    return out;
  }

  schedule() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      this.plot.setData(this.data);
    });
  }
}

/** Free heap in bytes against simulated time (CircuitPython engine). */
export class HeapPlot {
  constructor(box) {
    this.data = [[], []];
    this.plot = new uPlot({
      width: 300, height: 120,
      scales: { x: { time: false }, y: { range: (u, min, max) => [Math.max(0, min - 2048), max + 2048] } },
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      axes: [secondsAxis(), {
        stroke: "#9aa7b4", grid: { stroke: "#26303a" }, ticks: { stroke: "#26303a" }, size: 76,
        values: (u, v) => v.map((x) => `${(x / 1024).toFixed(1)} KiB`),
      }],
      series: [{}, { label: "free heap", stroke: "#8fe388", width: 2 }],
    }, this.data, box);
    sizeTo(this.plot, box, 120);
    this.dirty = false;
  }

  add(t, bytes) {
    const d = this.data;
    if (d[0].length && t <= d[0][d[0].length - 1]) return;
    d[0].push(t);
    d[1].push(bytes);
    if (d[0].length > MAX_POINTS) for (const col of d) col.shift();
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => { this.dirty = false; this.plot.setData(this.data); });
  }

  clear() {
    this.data = [[], []];
    this.plot.setData(this.data);
  }
}
