// Replay mode: the recording (GET /api/recording, JSON lines) on a timeline. Scrubbing to a
// time paints exactly the recorded frame of that moment and shows the logs, readings,
// shadow and module state up to it.

import { decodeJsonFrame } from "./oled.js";

/** Index of the last item with t <= time in a list sorted by t, or -1. */
export function lastAtOrBefore(list, time) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].t <= time) lo = mid + 1; else hi = mid;
  }
  return lo - 1;
}

export function parseRecording(text) {
  const messages = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line);
      if (m && typeof m === "object" && typeof m.t === "number") messages.push(m);
    } catch { /* a torn last line: skip it */ }
  }
  messages.sort((a, b) => a.t - b.t); // stable: same-time messages keep their order
  return messages;
}

export class Replay {
  /** ``view`` draws the state: {frame(f, index), logs(byType), clock(t)}. */
  constructor(view) {
    this.view = view;
    this.messages = [];
    this.frames = [];
    this.byType = {};
    this.t = 0;
    this.end = 0;
    this.playing = false;
    this.frameIndex = -1;
    this.timeline = document.getElementById("timeline");
    this.playButton = document.getElementById("replay-play");
    this.timeline.addEventListener("input", () => { this.stop(); this.seek(Number(this.timeline.value)); });
    this.playButton.addEventListener("click", () => (this.playing ? this.stop() : this.play()));
  }

  async load() {
    const response = await fetch("/api/recording");
    if (!response.ok) throw new Error(`the recording could not be read (HTTP ${response.status})`);
    this.messages = parseRecording(await response.text());
    this.byType = {};
    this.frames = [];
    for (const m of this.messages) {
      if (m.type === "frame") {
        const frame = decodeJsonFrame(m);
        if (frame) this.frames.push(frame);
      } else {
        (this.byType[m.type] ||= []).push(m);
      }
    }
    this.end = this.messages.length ? this.messages[this.messages.length - 1].t : 0;
    this.timeline.max = String(this.end);
    document.getElementById("replay-end").textContent = this.end.toFixed(3);
    document.getElementById("replay-frames").textContent = String(this.frames.length);
    this.seek(this.frames.length ? this.frames[0].t : 0);
  }

  /** Everything of ``type`` up to the current time. */
  upTo(type) {
    const list = this.byType[type] || [];
    return list.slice(0, lastAtOrBefore(list, this.t) + 1);
  }

  seek(time) {
    this.t = Math.min(Math.max(0, time), this.end);
    this.timeline.value = String(this.t);
    document.getElementById("replay-t").textContent = this.t.toFixed(3);
    const index = lastAtOrBefore(this.frames, this.t);
    this.frameIndex = index;
    document.getElementById("replay-frame").textContent = index < 0 ? "–" : String(index + 1);
    this.view.frame(index < 0 ? null : this.frames[index], index);
    this.view.state(this);
  }

  play() {
    if (this.t >= this.end) this.seek(0);
    this.playing = true;
    this.playButton.textContent = "❚❚ pause";
    let last = performance.now();
    const tick = (now) => {
      if (!this.playing) return;
      const dt = ((now - last) / 1000) * Number(document.getElementById("replay-speed").value);
      last = now;
      this.seek(this.t + dt);
      if (this.t >= this.end) this.stop(); else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  stop() {
    this.playing = false;
    this.playButton.textContent = "▶ play";
  }
}
