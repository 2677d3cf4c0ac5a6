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
