// @ts-check
// governor.js: the mesh bandwidth governor. In a full mesh every sender
// encodes and uploads its video once per remote peer, so the per-peer caps
// shrink as the room grows, keeping one sender's upload near 2 Mbit/s and
// its encoding work near one 720p30 stream. docs/client.md explains the
// numbers. The table and capsFor are pure; applyCaps puts caps on an
// RTCRtpSender. No DOM.

/**
 * @typedef {{upTo: number, maxBitrate: number, maxHeight: number, maxFramerate: number}} Row
 * `upTo`: the row applies to a sender with at most that many remote peers.
 * `maxHeight`: the short side of the picture, in pixels.
 */

/** Camera video: motion matters, detail less. @type {readonly Row[]} */
export const CAMERA = Object.freeze([
  { upTo: 1, maxBitrate: 1_500_000, maxHeight: 720, maxFramerate: 30 },
  { upTo: 2, maxBitrate: 1_000_000, maxHeight: 540, maxFramerate: 30 },
  { upTo: 3, maxBitrate: 700_000, maxHeight: 480, maxFramerate: 30 },
  { upTo: 4, maxBitrate: 500_000, maxHeight: 360, maxFramerate: 30 },
  { upTo: 5, maxBitrate: 400_000, maxHeight: 360, maxFramerate: 24 },
  { upTo: 7, maxBitrate: 300_000, maxHeight: 270, maxFramerate: 24 },
  { upTo: Infinity, maxBitrate: 200_000, maxHeight: 180, maxFramerate: 15 },
]);

/** Screen sharing: text must stay legible, motion matters less. @type {readonly Row[]} */
export const SCREEN = Object.freeze([
  { upTo: 1, maxBitrate: 2_000_000, maxHeight: 1080, maxFramerate: 15 },
  { upTo: 2, maxBitrate: 1_200_000, maxHeight: 1080, maxFramerate: 10 },
  { upTo: 3, maxBitrate: 800_000, maxHeight: 720, maxFramerate: 8 },
  { upTo: 5, maxBitrate: 500_000, maxHeight: 720, maxFramerate: 5 },
  { upTo: Infinity, maxBitrate: 300_000, maxHeight: 540, maxFramerate: 5 },
]);

/**
 * @typedef {{maxBitrate: number, maxFramerate: number, scaleResolutionDownBy: number,
 *   degradationPreference: 'balanced' | 'maintain-resolution'}} Caps
 */

/**
 * The caps for one video sender.
 * @param {number} peers  remote peers this tab sends to (1 or more)
 * @param {'camera' | 'screen'} source
 * @param {{width?: number, height?: number}} [size]  the track's settings
 * @returns {Caps}
 */
export function capsFor(peers, source, size = {}) {
  const table = source === 'screen' ? SCREEN : CAMERA;
  const n = Math.max(1, Math.floor(peers) || 1);
  const row = /** @type {Row} */ (table.find((r) => n <= r.upTo));
  const w = size.width ?? 0;
  const h = size.height ?? 0;
  const short = w > 0 && h > 0 ? Math.min(w, h) : h;
  const scale = short > row.maxHeight ? short / row.maxHeight : 1;
  return {
    maxBitrate: row.maxBitrate,
    maxFramerate: row.maxFramerate,
    scaleResolutionDownBy: Math.round(scale * 1000) / 1000,
    degradationPreference: source === 'screen' ? 'maintain-resolution' : 'balanced',
  };
}

/** @param {RTCRtpEncodingParameters[]} encodings @param {Caps} caps */
function capEncodings(encodings, caps) {
  for (const enc of encodings) {
    enc.maxBitrate = caps.maxBitrate;
    enc.maxFramerate = caps.maxFramerate;
    enc.scaleResolutionDownBy = caps.scaleResolutionDownBy;
  }
}

/**
 * Sets `caps` on every encoding of `sender` (and the degradation
 * preference), unless they are set already. A browser that refuses the
 * degradation preference gets the caps alone. Nothing before the sender
 * is negotiated (no encodings yet).
 * @param {RTCRtpSender} sender
 * @param {Caps} caps
 */
export async function applyCaps(sender, caps) {
  const params = /** @type {RTCRtpSendParameters & {degradationPreference?: string}} */ (sender.getParameters());
  if (!params.encodings || params.encodings.length === 0) return; // not negotiated yet
  const same = params.degradationPreference === caps.degradationPreference && params.encodings.every((enc) =>
    enc.maxBitrate === caps.maxBitrate && enc.maxFramerate === caps.maxFramerate && (enc.scaleResolutionDownBy ?? 1) === caps.scaleResolutionDownBy);
  if (same) return;
  capEncodings(params.encodings, caps);
  params.degradationPreference = caps.degradationPreference;
  try {
    await sender.setParameters(params);
  } catch {
    // A browser without degradationPreference: the caps alone.
    const again = sender.getParameters();
    capEncodings(again.encodings ?? [], caps);
    await sender.setParameters(again);
  }
}
