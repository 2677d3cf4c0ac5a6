// insider.mjs: what anyone holding a room's link can do with a signal the
// daemon relays (the attacker of the trust tests: a member, or the
// daemon's operator once given the link): derive the room's signal key,
// open a payload, and seal a changed one again under the same IV and
// counter. The layout is e2ee/signal-codec.js's; the key is HKDF over the
// link's secret, as e2ee/crypto.js derives it.
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { associatedData } from '../../web/js/e2ee/crypto.js';

const LABEL = 'xroom/v2/signal';
const TAG = 16;

/**
 * The room's signal key from its link's secret (base64url text, or bytes).
 * @param {string | Uint8Array} secret @param {string} roomId
 */
export function signalKey(secret, roomId) {
  const raw = typeof secret === 'string' ? Buffer.from(secret, 'base64url') : secret;
  return Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), `${LABEL}\0${roomId}`, 32));
}

/**
 * The plaintext of a relayed payload `data` ({iv, ct, c}) from peer id
 * `from` to `to`; throws if it does not open.
 * @param {Buffer} key @param {string} from @param {string} to @param {{iv: string, ct: string, c: number}} data
 */
export function openSignal(key, from, to, data) {
  const ct = Buffer.from(data.ct, 'base64url');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(data.iv, 'base64url'));
  d.setAAD(associatedData(LABEL, [from, to], data.c));
  d.setAuthTag(ct.subarray(ct.length - TAG));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - TAG)), d.final()]);
}

/**
 * `data` with `plain` sealed in its place, under the same IV and counter.
 * @param {Buffer} key @param {string} from @param {string} to @param {{iv: string, ct: string, c: number}} data @param {Buffer} plain
 */
export function resealSignal(key, from, to, data, plain) {
  const c = createCipheriv('aes-256-gcm', key, Buffer.from(data.iv, 'base64url'));
  c.setAAD(associatedData(LABEL, [from, to], data.c));
  return { ...data, ct: Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]).toString('base64url') };
}
