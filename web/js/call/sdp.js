// @ts-check
// sdp.js: repairs to a remote session description before it is applied
// (pure, no DOM). The description is sealed end to end, so it comes from
// the other browser as that browser wrote it; what is repaired here is
// what one browser writes and another refuses.
//
// Firefox (153) writes `a=rtcp-fb` lines for payload types that
// setCodecPreferences removed from the m-line; Chromium refuses the whole
// offer ("Failed to parse codecs correctly"). Attribute lines that name a
// payload type the m-line does not list describe nothing, so they go.
//
// Also what our transceivers offer to negotiate: no clear audio level
// (hideAudioLevel).

/**
 * Drops `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines whose payload type is
 * not in their media section's format list. Everything else is kept as
 * it is, line endings included.
 * @param {string} sdp
 * @returns {string}
 */
export function tidySdp(sdp) {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  /** @type {Set<string> | null} payload types of the current RTP media section */
  let formats = null;
  const out = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^m=\S+ \S+ (\S*RTP\S*) (.*)$/.exec(line);
    if (m) {
      formats = new Set(m[2].trim().split(/\s+/));
    } else if (line.startsWith('m=')) {
      formats = null; // not RTP (a data channel): nothing to check
    } else if (formats) {
      const a = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ \t]/.exec(line);
      if (a && !formats.has(a[1])) continue;
    }
    out.push(line);
  }
  return out.join(eol);
}

/** RFC 6464: each audio packet's level, in a clear RTP header extension. */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/**
 * Takes the audio-level header extension out of what `transceiver`
 * negotiates: in the clear, it tells the network and any relay who speaks
 * and how loud, packet by packet. Receivers compute the level from the
 * decoded audio instead (the speaking indicator, mesh.js). Needs
 * setHeaderExtensionsToNegotiate (Chromium has it); a call with one such
 * side has no audio level in either direction, since the answer can only
 * keep what the offer has. False where the browser cannot.
 * @param {RTCRtpTransceiver} transceiver
 */
export function hideAudioLevel(transceiver) {
  const t = /** @type {any} */ (transceiver);
  if (typeof t.getHeaderExtensionsToNegotiate !== 'function' || typeof t.setHeaderExtensionsToNegotiate !== 'function') return false;
  try {
    const exts = t.getHeaderExtensionsToNegotiate();
    t.setHeaderExtensionsToNegotiate(exts.map((/** @type {{uri: string, direction: string}} */ e) => (e.uri === AUDIO_LEVEL_URI ? { ...e, direction: 'stopped' } : e)));
    return true;
  } catch (e) {
    console.warn('xroom: the audio level stays in the RTP headers', e);
    return false;
  }
}
