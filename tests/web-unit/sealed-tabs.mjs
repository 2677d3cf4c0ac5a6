// sealed-tabs.mjs: tabs with real identities (web/js/e2ee/identity.js)
// whose DataSealers seal under their real pair keys, for the unit tests of
// what rides on sealed data channels (chat, cards, files).
import { randomBytes } from 'node:crypto';
import { DataSealer } from '../../web/js/e2ee/crypto.js';
import { TabIdentity } from '../../web/js/e2ee/identity.js';

/**
 * `n` tabs of one room (its id and pair salt), each with a DataSealer that
 * holds a pair key with each of the others (and none with anyone else).
 * @param {number} n
 * @param {{roomId?: string, salt?: Uint8Array, identities?: TabIdentity[]}} [room]  identities: these tabs (in another room, say)
 * @returns {Promise<{tab: string, identity: TabIdentity, sealer: DataSealer}[]>}
 */
export async function sealedTabs(n, { roomId = 'test-room', salt = new Uint8Array(randomBytes(32)), identities = [] } = {}) {
  const ids = [...identities, ...await Promise.all(Array.from({ length: n - identities.length }, () => TabIdentity.create()))];
  return ids.map((me) => {
    const keys = new Map();
    const keyFor = async (t) => {
      const other = ids.find((o) => o.tab === t && o !== me);
      if (!other) return null;
      if (!keys.has(t)) keys.set(t, me.pairKey(other.dh, t, salt, roomId));
      return keys.get(t);
    };
    return { tab: me.tab, identity: me, sealer: new DataSealer(keyFor, me.tab) };
  });
}
