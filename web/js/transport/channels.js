// @ts-check
// channels.js: the two data channels every peer connection has, and the
// names bound into the associated data of what is sealed on them. The mesh
// (call/) makes both with `negotiated: true` and a fixed id when it builds
// a connection, so they exist on both sides before any offer, without
// signaling. Ordered and reliable. Pure: constants only.

/** The sealed data channel (data-link.js): chat, cards, plugins. */
export const DATA_CHANNEL = Object.freeze({ label: 'xroom', id: 0 });
/** Its name in the associated data of the messages sealed on it. */
export const SEAL_CHANNEL = 'dc1';
/**
 * The file channel (features/files/): a chat message waits behind at most
 * one chunk of a transfer, not behind megabytes of them.
 */
export const FILE_CHANNEL = Object.freeze({ label: 'xroom-files', id: 1 });
/** Its name in the associated data of the messages sealed on it. */
export const FILE_SEAL = 'dc-files';
