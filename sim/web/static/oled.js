// The OLED: decodes frames (binary messages, or their JSON form in a recording) and
// paints them on a 128x64 canvas, one canvas pixel per panel pixel; CSS scales it by a
// whole number with `image-rendering: pixelated`, so the picture stays crisp.

export const WIDTH = 128;
export const HEIGHT = 64;
const ROW_BYTES = WIDTH / 8;
const PIXEL_BYTES = ROW_BYTES * HEIGHT; // 1024
const HEADER = 11;

// SSD1306 look: dark glass, blue-white pixels. Contrast (0-255) dims them, never to black.
const GLASS = [5, 9, 14];
const LIT = [196, 228, 255];
const DIMMEST = 0.3;
const MAX_CSS_SCALE = 5; // CSS pixels per panel pixel at most

/** A frame from the binary message: {t, flags, contrast, on, pixels: Uint8Array(1024)}. */
export function decodeBinaryFrame(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < HEADER + PIXEL_BYTES || bytes[0] !== 0x46) return null;
  const view = new DataView(buffer);
  return makeFrame(view.getFloat64(1, true), bytes[9], bytes[10],
    bytes.slice(HEADER, HEADER + PIXEL_BYTES));
}

/** A frame from a recording's JSON line ({type: "frame", t, flags, contrast, bits}). */
export function decodeJsonFrame(message) {
  let raw;
  try { raw = atob(message.bits || message.pixels || ""); } catch { return null; }
  if (raw.length !== PIXEL_BYTES) return null;
  const pixels = new Uint8Array(PIXEL_BYTES);
  for (let i = 0; i < PIXEL_BYTES; i++) pixels[i] = raw.charCodeAt(i);
  return makeFrame(Number(message.t), message.flags | 0, message.contrast | 0, pixels);
}

function makeFrame(t, flags, contrast, pixels) {
  return {
    t, flags, contrast, pixels,
    on: (flags & 1) === 1,
    inverted: (flags & 2) === 2,
    entireOn: (flags & 4) === 4,
  };
}

/** Whether the pixel at (x, y) is lit in a frame's packed pixels. */
export function pixelLit(pixels, x, y) {
  return (pixels[y * ROW_BYTES + (x >> 3)] >> (7 - (x & 7))) & 1;
}

export class Oled {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.image = this.ctx.createImageData(WIDTH, HEIGHT);
    this.pending = null;
    this.scheduled = false;
    this.onPaint = null; // (frame, paintedAtMs) after each paint
    this.paintDark();
  }

  /** Paints ``frame`` at the next animation frame; only the newest pending one is painted. */
  show(frame) {
    this.pending = frame;
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      const next = this.pending;
      this.pending = null;
      if (next) this.paint(next);
    });
  }

  /** Paints ``frame`` now. */
  paint(frame) {
    const data = this.image.data;
    const level = DIMMEST + (1 - DIMMEST) * (frame.contrast / 255);
    const lit = LIT.map((c) => Math.round(c * level));
    const on = frame.on;
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const c = on && pixelLit(frame.pixels, x, y) ? lit : GLASS;
        const i = (y * WIDTH + x) * 4;
        data[i] = c[0]; data[i + 1] = c[1]; data[i + 2] = c[2]; data[i + 3] = 255;
      }
    }
    this.ctx.putImageData(this.image, 0, 0);
    if (this.onPaint) this.onPaint(frame, performance.timeOrigin + performance.now());
  }

  paintDark() {
    this.ctx.fillStyle = `rgb(${GLASS.join(",")})`;
    this.ctx.fillRect(0, 0, WIDTH, HEIGHT);
  }
}

/** Keeps the canvas at a whole multiple of 128x64 device pixels that fits its box. */
export function fitCrisp(canvas, box) {
  const resize = () => {
    const dpr = window.devicePixelRatio || 1;
    const room = Math.max(box.clientWidth - 2, WIDTH / dpr);
    const most = Math.floor(MAX_CSS_SCALE * dpr);
    const scale = Math.max(1, Math.min(most, Math.floor((room * dpr) / WIDTH)));
    canvas.style.width = `${(WIDTH * scale) / dpr}px`;
    canvas.style.height = `${(HEIGHT * scale) / dpr}px`;
    canvas.dataset.scale = String(scale);
  };
  new ResizeObserver(resize).observe(box);
  window.addEventListener("resize", resize);
  resize();
}
