// Remote descriptions repaired before they are applied (web/js/call/sdp.js):
// attribute lines naming a payload type their m-line does not list, as
// Firefox writes after setCodecPreferences and Chromium refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidySdp } from '../../web/js/call/sdp.js';

// Firefox 153's offer from a video receiver limited to VP8 and its helpers
// (abridged): rtcp-fb lines for 121 (VP9) and 99 (AV1) are left behind.
const firefoxOffer = [
  'v=0', 'o=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1 2',
  'm=audio 9 UDP/TLS/RTP/SAVPF 109', 'a=recvonly', 'a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1',
  'a=mid:0', 'a=rtcp-fb:109 transport-cc', 'a=rtpmap:109 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 120 124 123 122 119', 'a=recvonly', 'a=fmtp:120 max-fs=12288;max-fr=60',
  'a=fmtp:124 apt=120', 'a=fmtp:119 apt=122', 'a=mid:1', 'a=rtcp-fb:120 nack', 'a=rtcp-fb:120 nack pli',
  'a=rtcp-fb:121 nack', 'a=rtcp-fb:121 ccm fir', 'a=rtcp-fb:99 nack', 'a=rtcp-fb:99 transport-cc',
  'a=rtcp-fb:122 nack', 'a=rtpmap:120 VP8/90000', 'a=rtpmap:124 rtx/90000', 'a=rtpmap:123 ulpfec/90000',
  'a=rtpmap:122 red/90000', 'a=rtpmap:119 rtx/90000',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:2', 'a=sctp-port:5000', '',
].join('\r\n');

test('attribute lines of payload types the m-line does not list are dropped; nothing else changes', () => {
  const out = tidySdp(firefoxOffer);
  const dropped = firefoxOffer.split('\r\n').filter((l) => !out.split('\r\n').includes(l));
  assert.deepEqual(dropped, ['a=rtcp-fb:121 nack', 'a=rtcp-fb:121 ccm fir', 'a=rtcp-fb:99 nack', 'a=rtcp-fb:99 transport-cc']);
  assert.ok(out.endsWith('\r\n'), 'line endings kept');
  assert.equal(out.split('\r\n').length, firefoxOffer.split('\r\n').length - 4);
});

test('a clean description is returned unchanged; wildcards, data channels and other attributes stay', () => {
  const sdp = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96 97', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000',
    'a=fmtp:97 apt=96', 'a=rtcp-fb:* nack', 'a=rtcp-fb:96 goog-remb', 'a=ssrc:1234 cname:x',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=fmtp:5000 whatever', ''].join('\n');
  assert.equal(tidySdp(sdp), sdp);
  assert.equal(tidySdp(firefoxOffer.replace(/a=rtcp-fb:(121|99) [^\r]*\r\n/g, '')), firefoxOffer.replace(/a=rtcp-fb:(121|99) [^\r]*\r\n/g, ''));
});

test('payload types are compared whole, per media section', () => {
  const sdp = ['m=audio 9 UDP/TLS/RTP/SAVPF 11', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:11 x/8000',
    'm=video 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 VP8/90000', 'a=rtpmap:11 y/90000'].join('\r\n');
  assert.equal(tidySdp(sdp), ['m=audio 9 UDP/TLS/RTP/SAVPF 11', 'a=rtpmap:11 x/8000',
    'm=video 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 VP8/90000'].join('\r\n'));
});
