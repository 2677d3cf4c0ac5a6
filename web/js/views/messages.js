// @ts-check
// messages.js: what the room page says. The message screen, by code: the
// refusals before and during a call, a broken link, no camera access, a
// browser that cannot call or cannot encrypt, having left; and what is
// said about the camera and microphone. Text only (room-view.js shows it).

/** @typedef {import('../call/media.js').Access} Access */

/**
 * The screens that end (or stop) a visit, by error code.
 * @type {Record<string, {title: string, text: string, help?: string, retry?: boolean, alt?: string}>}
 */
export const MESSAGES = {
  'room-full': {
    title: 'This room is full',
    text: 'Everyone it has room for is already in the call.',
    help: 'Try again when someone leaves, or start a new room.',
    retry: true,
  },
  forbidden: {
    title: 'This link does not open this room',
    text: 'The room is in use, and the key in your link is not the key it was opened with.',
    help: 'Check that you copied the whole link, including the part after #.',
    retry: true,
  },
  'server-busy': {
    title: 'The server is busy',
    text: 'It is looking after as many rooms and people as it can right now.',
    help: 'Please try again in a minute.',
    retry: true,
  },
  'room-locked': {
    title: 'This room is locked',
    text: 'Its operator has closed it to new people.',
    retry: true,
  },
  'room-closed': {
    title: 'The room was closed',
    text: 'The operator of this server closed the room.',
  },
  'room-expired': {
    title: 'This room has expired',
    text: 'It was open until a set time, which has passed.',
  },
  kicked: {
    title: 'You were removed from the room',
    text: 'The operator of this server removed you from the call.',
  },
  'bad-room': {
    title: 'This is not a room link',
    text: 'The room name in the link is not valid.',
  },
  'bad-link': {
    title: 'This link is incomplete',
    text: 'A room link ends with # and a key, and that part is missing or damaged.',
    help: 'Ask for the link again and copy all of it. The key after # never reaches the server, which is why the server cannot fill it in.',
  },
  denied: {
    title: 'xroom may not use your camera or microphone',
    text: 'Your browser, or you, refused access to them.',
    help: 'Click the camera icon in the address bar (or the site settings), allow the camera and microphone, then try again. You can also join and only watch and listen.',
    retry: true,
    alt: 'Join without camera and microphone',
  },
  unsupported: {
    title: 'This browser cannot make video calls',
    text: 'xroom needs WebRTC and access to the camera, and this browser offers neither here.',
    help: 'Open the link in a current Firefox, Chrome, Edge or Safari. On a phone, open it in the browser itself rather than inside another app.',
  },
  insecure: {
    title: 'This page needs a secure connection',
    text: 'Browsers give cameras and microphones only to pages served over HTTPS (or from this computer).',
    help: 'Ask the operator of this server to serve it over HTTPS.',
  },
  'no-e2ee': {
    title: 'This browser cannot encrypt the call',
    text: 'xroom encrypts every picture and sound end to end, so that nobody running the server can see or hear them. ' +
      'This browser lacks the part of WebRTC that does it (encoded transforms), and xroom never makes a call it cannot encrypt.',
    help: 'Open the link in a current Chrome, Edge or Safari.',
  },
  left: {
    title: 'You left the call',
    text: 'Your camera and microphone are off.',
    retry: true,
  },
};

/**
 * Why the preview or our tile has no picture.
 * @param {Access} video  what became of the camera
 * @param {boolean} missing  the camera is switched on, yet there is none
 */
export function cameraOffText(video, missing) {
  if (!missing) return 'Camera is off';
  return { denied: 'The camera is blocked', none: 'No camera found', busy: 'The camera is in use by another app' }[
    /** @type {'denied' | 'none' | 'busy'} */ (video)] ?? 'No camera';
}

/**
 * The note under the device pickers: what is blocked, busy or missing.
 * @param {{audio: Access, video: Access}} a
 * @param {{micOn: boolean, camOn: boolean}} on  what is switched on
 */
export function deviceNoteText(a, on) {
  /** @type {string[]} */
  const notes = [];
  if (a.video === 'denied') notes.push('The camera is blocked for this site.');
  if (a.audio === 'denied') notes.push('The microphone is blocked for this site.');
  if (a.video === 'busy') notes.push('The camera is in use by another app.');
  if (a.audio === 'busy') notes.push('The microphone is in use by another app.');
  if (a.video === 'none' && on.camOn) notes.push('No camera was found.');
  if (a.audio === 'none' && on.micOn) notes.push('No microphone was found.');
  return notes.join(' ');
}

/**
 * Why a device could not be switched on.
 * @param {'audio' | 'video'} kind
 * @param {Access} access
 */
export function switchProblemText(kind, access) {
  const what = kind === 'audio' ? 'microphone' : 'camera';
  if (access === 'denied') return `The ${what} is blocked for this site`;
  if (access === 'busy') return `The ${what} is in use by another app`;
  return `No ${what} found`;
}

