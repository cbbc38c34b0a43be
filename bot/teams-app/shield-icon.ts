/** Draws the app icons: a shield with a check mark, anti-aliased by supersampling. */

export const accentColor = '#3157A8';

type Shape = (x: number, y: number) => boolean;

interface Shield {
  left: number;
  right: number;
  top: number;
  waist: number;
  bottom: number;
}

const outer: Shield = { left: 0.19, right: 0.81, top: 0.14, waist: 0.52, bottom: 0.9 };

function inset(s: Shield, by: number): Shield {
  return { left: s.left + by, right: s.right - by, top: s.top + by, waist: s.waist, bottom: s.bottom - by * 1.5 };
}

/** Straight sides down to the waist, then convex curves meeting at the point; a shallow dip on top. */
function insideShield(s: Shield): Shape {
  const half = (s.right - s.left) / 2;
  const centre = s.left + half;
  return (x, y) => {
    const dx = Math.abs(x - centre);
    if (dx > half) return false;
    const top = s.top + 0.035 * (1 - (dx / half) ** 2);
    if (y < top || y > s.bottom) return false;
    if (y <= s.waist) return true;
    const t = (y - s.waist) / (s.bottom - s.waist);
    return dx <= half * (1 - t ** 1.7);
  };
}

function nearSegment(ax: number, ay: number, bx: number, by: number, width: number): Shape {
  return (x, y) => {
    const vx = bx - ax;
    const vy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)));
    return Math.hypot(x - (ax + t * vx), y - (ay + t * vy)) <= width / 2;
  };
}

function checkMark(width: number): Shape {
  const a = nearSegment(0.355, 0.5, 0.465, 0.61, width);
  const b = nearSegment(0.465, 0.61, 0.655, 0.39, width);
  return (x, y) => a(x, y) || b(x, y);
}

/** Coverage of each pixel by `shape`, 0..1, from an n×n grid of samples. */
function coverage(size: number, shape: Shape, samples = 4): Float64Array {
  const out = new Float64Array(size * size);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) if (shape((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size)) hits++;
      }
      out[py * size + px] = hits / (samples * samples);
    }
  }
  return out;
}

/** The same shape at `k` times the size, about the shield's middle. */
function scaled(shape: Shape, k: number): Shape {
  return (x, y) => shape((x - 0.5) / k + 0.5, (y - 0.52) / k + 0.52);
}

function hex(colour: string): [number, number, number] {
  const n = Number.parseInt(colour.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** 192×192, full colour: a white shield on the accent colour, the check cut out of it, inside Teams' safe area. */
export function colorIconPixels(size = 192): Uint8Array {
  const shield = insideShield(outer);
  const check = checkMark(0.085);
  const white = coverage(size, scaled((x, y) => shield(x, y) && !check(x, y), 0.8));
  const [r, g, b] = hex(accentColor);
  const rgba = new Uint8Array(size * size * 4);
  white.forEach((w, i) => rgba.set([Math.round(r + (255 - r) * w), Math.round(g + (255 - g) * w), Math.round(b + (255 - b) * w), 255], i * 4));
  return rgba;
}

/** 32×32 outline: white strokes on a transparent background, as Teams requires. */
export function outlineIconPixels(size = 32): Uint8Array {
  const ring = insideShield(outer);
  const hole = insideShield(inset(outer, 0.075));
  const check = checkMark(0.085);
  const alpha = coverage(size, (x, y) => (ring(x, y) && !hole(x, y)) || check(x, y));
  const rgba = new Uint8Array(size * size * 4);
  alpha.forEach((a, i) => rgba.set([255, 255, 255, Math.round(a * 255)], i * 4));
  return rgba;
}
