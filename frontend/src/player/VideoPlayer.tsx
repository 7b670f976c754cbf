// The player that appears when the agent plays a video. It autoplays muted (the only autoplay browsers
// allow), then tries Picture-in-Picture so the video floats above everything while the viewer keeps
// talking. Without a recent user gesture Chromium refuses; the player then stays in the page as the main
// focus and offers "Pop out", whose click is the gesture PiP needs.

import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';

import type { PlayVideo } from '../channel/events';
import { CloseIcon, PopOutIcon } from '../components/Icons';
import { offersPopOut, type LayoutAction, type PipState } from '../layout/layoutReducer';
import {
  describeMedia,
  leavePictureInPicture,
  pictureInPictureSupported,
  registerAutoPictureInPicture,
} from './pictureInPicture';

interface VideoPlayerProps {
  video: PlayVideo;
  pip: PipState;
  /** Shown in the browser's media controls next to the title. */
  album: string | null;
  dispatch: (action: LayoutAction) => void;
}

export function VideoPlayer({ video, pip, album, dispatch }: VideoPlayerProps) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const titleId = useId();
  // Remembered per URL, so a replacement video starts without the previous one's error or hint.
  const [failedUrl, setFailedUrl] = useState<string | null>(null);
  const [blockedUrl, setBlockedUrl] = useState<string | null>(null);

  useLayoutEffect(() => {
    const element = videoRef.current;
    if (element === null) return;
    // React sets the `muted` property but not the attribute; `defaultMuted` reflects the attribute, which
    // keeps the markup honest (`<video muted>`) and survives a reload of the source.
    element.defaultMuted = true;
    element.muted = true;
  }, []);

  useEffect(() => {
    const element = videoRef.current;
    if (element === null) return;
    const entered = () => {
      dispatch({ type: 'pip_entered' });
    };
    const left = () => {
      dispatch({ type: 'pip_left' });
    };
    element.addEventListener('enterpictureinpicture', entered);
    element.addEventListener('leavepictureinpicture', left);
    const unregister = registerAutoPictureInPicture(() => {
      element.requestPictureInPicture().catch(() => undefined);
    });
    return () => {
      element.removeEventListener('enterpictureinpicture', entered);
      element.removeEventListener('leavepictureinpicture', left);
      unregister();
      // Removing the element would close the PiP window anyway; leaving first keeps it orderly.
      leavePictureInPicture(element).catch(() => undefined);
    };
  }, [dispatch]);

  useEffect(() => describeMedia(video.title, album), [video.title, album]);

  const requestPictureInPicture = async (): Promise<boolean> => {
    const element = videoRef.current;
    if (element === null) return false;
    if (!pictureInPictureSupported()) {
      dispatch({ type: 'pip_unsupported' });
      return false;
    }
    try {
      await element.requestPictureInPicture();
      dispatch({ type: 'pip_entered' });
      return true;
    } catch {
      dispatch({ type: 'pip_refused' }); // NotAllowedError without a gesture; also any other refusal
      return false;
    }
  };

  const onPlaying = () => {
    if (pip === 'pending') {
      dispatch({ type: 'pip_requested' }); // `playing` fires again after buffering: ask once per video
      void requestPictureInPicture();
    }
  };

  const popOut = async () => {
    const entered = await requestPictureInPicture();
    setBlockedUrl(entered ? null : video.url);
  };

  const bringBack = () => {
    const element = videoRef.current;
    if (element !== null) leavePictureInPicture(element).catch(() => undefined);
  };

  const close = () => {
    dispatch({ type: 'closed' });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape') close();
  };

  const failed = failedUrl === video.url;
  const className = ['player', pip === 'active' ? 'player--pip' : ''].filter(Boolean).join(' ');

  return (
    <section className={className} data-testid="video-player" aria-labelledby={titleId} onKeyDown={onKeyDown}>
      <header className="player__bar">
        <div className="player__heading">
          <span className="player__eyebrow">Now playing</span>
          <h2 className="player__title" id={titleId}>
            {video.title}
          </h2>
        </div>
        <div className="player__actions">
          {offersPopOut(pip) && (
            <button type="button" className="button button--primary" onClick={() => void popOut()}>
              <PopOutIcon />
              Pop out
            </button>
          )}
          <button type="button" className="icon-button" aria-label="Close video" onClick={close}>
            <CloseIcon />
          </button>
        </div>
      </header>
      <div className="player__screen">
        <video
          ref={videoRef}
          src={video.url}
          autoPlay
          muted
          playsInline
          controls
          preload="auto"
          onPlaying={onPlaying}
          onEnded={() => {
            dispatch({ type: 'ended' });
          }}
          onError={() => {
            setFailedUrl(video.url);
          }}
        />
        {pip === 'active' && (
          <div className="player__overlay">
            <p>Playing in picture-in-picture</p>
            <button type="button" className="button button--ghost" onClick={bringBack}>
              Back to the page
            </button>
          </div>
        )}
        {failed && (
          <div className="player__overlay" role="alert">
            <p>This video could not be loaded.</p>
            <button type="button" className="button button--ghost" onClick={close}>
              Close
            </button>
          </div>
        )}
      </div>
      {blockedUrl === video.url && offersPopOut(pip) && (
        <p className="player__hint" role="status">
          The browser kept the video in the page. Use the video’s own menu to pop it out.
        </p>
      )}
    </section>
  );
}
