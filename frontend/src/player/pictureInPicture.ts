// Picture-in-Picture helpers. Browsers differ (Firefox has no API, Safari its own), and Chromium refuses
// requestPictureInPicture() without a recent user gesture, so every call here may fail and says so.

/** Whether this browser offers the standard API at all. */
export function pictureInPictureSupported(): boolean {
  return (
    typeof HTMLVideoElement !== 'undefined' &&
    'requestPictureInPicture' in HTMLVideoElement.prototype &&
    // jsdom and some browsers lack the flag entirely; only an explicit `false` (policy) rules PiP out.
    (document as { pictureInPictureEnabled?: boolean }).pictureInPictureEnabled !== false
  );
}

export function isInPictureInPicture(video: HTMLVideoElement): boolean {
  return (document as { pictureInPictureElement?: Element | null }).pictureInPictureElement === video;
}

export async function leavePictureInPicture(video: HTMLVideoElement): Promise<void> {
  if (isInPictureInPicture(video)) await document.exitPictureInPicture();
}

type ActionHandlerSetter = (action: string, handler: (() => void) | null) => void;

function mediaSessionSetter(): ActionHandlerSetter | null {
  if (typeof navigator === 'undefined' || !('mediaSession' in navigator)) return null;
  const session = navigator.mediaSession;
  // "enterpictureinpicture" is newer than TypeScript's MediaSessionAction union.
  return session.setActionHandler.bind(session) as ActionHandlerSetter;
}

/** Lets the browser enter PiP by itself (e.g. when the viewer switches tabs) where it supports the
 * `enterpictureinpicture` media session action. Returns the undo. */
export function registerAutoPictureInPicture(enter: () => void): () => void {
  const setHandler = mediaSessionSetter();
  if (setHandler === null) return () => undefined;
  try {
    setHandler('enterpictureinpicture', enter);
  } catch {
    return () => undefined; // TypeError: an action this browser doesn't know
  }
  return () => {
    try {
      setHandler('enterpictureinpicture', null);
    } catch {
      // Nothing to undo.
    }
  };
}

/** Shows the video's title in the browser's media controls and PiP window, where supported. */
export function describeMedia(title: string, album: string | null): () => void {
  if (typeof navigator === 'undefined' || !('mediaSession' in navigator) || typeof MediaMetadata === 'undefined') {
    return () => undefined;
  }
  const session = navigator.mediaSession;
  session.metadata = new MediaMetadata(album === null ? { title } : { title, album });
  return () => {
    session.metadata = null;
  };
}
