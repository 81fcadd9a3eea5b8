// Content for the badge: a photo (previewed 1-bit by the simulator before sending), a QR
// code (checked as you type: does it fit, at what scale), a name, and the screen to show.
// Each Send reports success or the error next to its box.

const $ = (id) => document.getElementById(id);

function setStatus(node, level, text) {
  node.textContent = text;
  node.className = `status ${level}`;
}

async function errorText(response) {
  let detail = "";
  try {
    const body = await response.clone().json();
    detail = body.error || body.message || "";
  } catch {
    try { detail = (await response.text()).slice(0, 200); } catch { /* no body */ }
  }
  if (response.status === 413) return `file too large${detail ? `: ${detail}` : ""}`;
  if (response.status === 400) return detail || "not an image the simulator can read";
  return `${detail || response.statusText || "request failed"} (HTTP ${response.status})`;
}

export class ContentPanel {
  /** ``send(op)`` sends a WebSocket op and returns false when the page is not connected. */
  constructor(send) {
    this.send = send;
    this.file = null;
    this.previewUrl = null;
    this.previewSeq = 0;
    this.pendingSend = null; // the kind of the last WebSocket send awaiting `sent`
    this.qrTimer = null;
    this.lastQrFit = null;
    this.wirePhoto();
    this.wireQr();
    this.wireName();
    this.wireScreen();
  }

  photoQuery() {
    const fit = document.querySelector("input[name=fit]:checked").value;
    const params = new URLSearchParams({ fit, dither: $("dither").value, invert: $("invert").checked ? "1" : "0" });
    return params.toString();
  }

  wirePhoto() {
    const drop = $("drop");
    const input = $("photo-file");
    input.addEventListener("change", () => { if (input.files[0]) this.choose(input.files[0]); });
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const file = e.dataTransfer && e.dataTransfer.files[0];
      if (file) this.choose(file);
    });
    drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
    for (const node of document.querySelectorAll("input[name=fit], #dither, #invert")) {
      node.addEventListener("change", () => { if (this.file) this.preview(); });
    }
    $("photo-send").addEventListener("click", () => this.sendPhoto());
  }

  choose(file) {
    this.file = file;
    this.preview();
  }

  async preview() {
    const status = $("photo-status");
    const seq = ++this.previewSeq;
    $("photo-send").disabled = true;
    setStatus(status, "busy", `converting ${this.file.name}…`);
    let response;
    try {
      response = await fetch(`/api/photo/preview?${this.photoQuery()}`, {
        method: "POST", body: this.file,
        headers: { "Content-Type": this.file.type || "application/octet-stream" },
      });
    } catch (err) {
      if (seq === this.previewSeq) setStatus(status, "error", `preview failed: ${err.message}`);
      return;
    }
    if (seq !== this.previewSeq) return;
    if (!response.ok) {
      $("preview").hidden = true;
      setStatus(status, "error", `${this.file.name}: ${await errorText(response)}`);
      return;
    }
    const blob = await response.blob();
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = URL.createObjectURL(blob);
    const img = $("preview-img");
    img.src = this.previewUrl;
    $("preview").hidden = false;
    const size = response.headers.get("X-Photo-Size") || "";
    const bytes = response.headers.get("X-Photo-Bytes");
    $("preview-info").textContent = `128x64 from ${size || "the picture"}${bytes ? ` · ${bytes} bytes to send` : ""}`;
    setStatus(status, "ok", `preview of ${this.file.name}: what the badge will show`);
    $("photo-send").disabled = false;
  }

  async sendPhoto() {
    const status = $("photo-status");
    if (!this.file) return;
    setStatus(status, "busy", "sending…");
    try {
      const response = await fetch(`/api/photo/send?${this.photoQuery()}`, {
        method: "POST", body: this.file,
        headers: { "Content-Type": this.file.type || "application/octet-stream" },
      });
      if (!response.ok) { setStatus(status, "error", `not sent: ${await errorText(response)}`); return; }
      let bytes = null;
      try { bytes = (await response.json()).bytes; } catch { /* no body */ }
      setStatus(status, "ok", `sent${bytes != null ? ` (${bytes} bytes)` : ""} through the cloud`);
    } catch (err) {
      setStatus(status, "error", `not sent: ${err.message}`);
    }
  }

  wireQr() {
    const input = $("qr-text");
    input.addEventListener("input", () => {
      clearTimeout(this.qrTimer);
      const text = input.value;
      $("qr-send").disabled = true;
      if (!text) { setStatus($("qr-status"), "", ""); return; }
      setStatus($("qr-status"), "busy", "checking…");
      this.qrTimer = setTimeout(() => this.send({ op: "qr_check", text }), 120);
    });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter" && !$("qr-send").disabled) this.sendText("qr"); });
    $("qr-send").addEventListener("click", () => this.sendText("qr"));
  }

  wireName() {
    const input = $("name-text");
    input.addEventListener("input", () => { $("name-send").disabled = !input.value.trim(); });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter" && input.value.trim()) this.sendText("name"); });
    $("name-send").addEventListener("click", () => this.sendText("name"));
  }

  wireScreen() {
    $("screen-send").addEventListener("click", () => this.sendText("screen"));
  }

  statusFor(kind) {
    return $({ qr: "qr-status", name: "name-status", screen: "screen-status", photo: "photo-status" }[kind] || "qr-status");
  }

  sendText(kind) {
    const text = { qr: $("qr-text").value, name: $("name-text").value.trim(), screen: $("screen-name").value }[kind];
    if (this.send({ op: "send", kind, text })) {
      this.pendingSend = kind;
      setStatus(this.statusFor(kind), "busy", "sending…");
    } else {
      setStatus(this.statusFor(kind), "error", "not sent: the page is not connected");
    }
  }

  /** A `qr_fit` answer: shown only if it is about the text in the box now. */
  qrFit(message) {
    this.lastQrFit = message;
    if (message.text !== $("qr-text").value) return;
    const status = $("qr-status");
    if (message.fits) {
      setStatus(status, "ok", `fits: QR version ${message.version}, ${message.scale} pixel${message.scale === 1 ? "" : "s"} per module`);
      $("qr-send").disabled = false;
    } else {
      setStatus(status, "error", `does not fit: ${message.reason || "too long for the 64-pixel screen"}`);
      $("qr-send").disabled = true;
    }
  }

  /** A `sent` message: content went through the cloud path. */
  sent(message) {
    if (message.kind === "photo") {
      setStatus($("photo-status"), "ok", `sent: the broker has it (${message.bytes} bytes)`);
      return;
    }
    setStatus(this.statusFor(message.kind), "ok", `sent (${message.bytes} bytes) through the cloud`);
    if (this.pendingSend === message.kind) this.pendingSend = null;
  }

  /** A `notice` of level error: shown beside the box it is about, if any. */
  notice(message) {
    const about = String(message.about || "");
    let node = null;
    if (about.includes("photo")) node = $("photo-status");
    else if (about === "qr_check") node = $("qr-status");
    else if (about === "send" || about.startsWith("send")) node = this.statusFor(this.pendingSend || "qr");
    if (node) setStatus(node, message.level === "error" ? "error" : "ok", message.text);
    return node != null;
  }
}
