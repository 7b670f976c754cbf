// The Picture-in-Picture fallback, with requestPictureInPicture mocked as a browser would answer it.

import { act, fireEvent, render, screen } from '@testing-library/react';
import { useReducer } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { initialLayout, layoutReducer } from '../layout/layoutReducer';
import { sampleVideo } from '../test/fakes';
import { VideoPlayer } from './VideoPlayer';

/** The player as the page mounts it: driven by the real layout reducer, already told to play. */
function Harness() {
  const [state, dispatch] = useReducer(layoutReducer, layoutReducer(initialLayout, { type: 'play', video: sampleVideo() }));
  if (state.phase !== 'playing') return <p>idle: {state.lastEnd}</p>;
  return <VideoPlayer video={state.video} pip={state.pip} album="Demo" dispatch={dispatch} />;
}

function mockPictureInPicture(answer: () => Promise<unknown>) {
  const request = vi.fn(answer);
  Object.defineProperty(HTMLVideoElement.prototype, 'requestPictureInPicture', {
    configurable: true,
    writable: true,
    value: request,
  });
  return request;
}

function theVideo(): HTMLVideoElement {
  const video = screen.getByTestId('video-player').querySelector('video');
  if (video === null) throw new Error('no <video> in the player');
  return video;
}

const popOut = () => screen.queryByRole('button', { name: 'Pop out' });

afterEach(() => {
  Reflect.deleteProperty(HTMLVideoElement.prototype, 'requestPictureInPicture');
});

describe('VideoPlayer', () => {
  it('renders <video autoplay muted playsinline> with the event URL', () => {
    render(<Harness />);
    const video = theVideo();
    expect(video.getAttribute('src')).toBe('https://media.test/overview.mp4');
    expect(video.autoplay).toBe(true);
    expect(video.muted).toBe(true);
    expect(video.hasAttribute('muted')).toBe(true);
    expect(video.hasAttribute('playsinline')).toBe(true);
  });

  it('shows "Pop out" when the browser refuses PiP, keeping the player visible', async () => {
    const request = mockPictureInPicture(() => Promise.reject(new DOMException('needs a gesture', 'NotAllowedError')));
    render(<Harness />);
    expect(popOut()).toBeNull(); // not before it was asked
    fireEvent.playing(theVideo());
    expect(await screen.findByRole('button', { name: 'Pop out' })).toBeTruthy();
    expect(request).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('video-player')).toBeTruthy();

    fireEvent.playing(theVideo()); // `playing` again after buffering: no second request
    expect(request).toHaveBeenCalledTimes(1);
  });

  it('shows no "Pop out" when PiP is granted', async () => {
    const request = mockPictureInPicture(() => Promise.resolve({}));
    render(<Harness />);
    fireEvent.playing(theVideo());
    expect(await screen.findByText('Playing in picture-in-picture')).toBeTruthy();
    expect(request).toHaveBeenCalledTimes(1);
    expect(popOut()).toBeNull();
  });

  it('"Pop out" asks again on click, and offers itself again when the viewer leaves PiP', async () => {
    const request = mockPictureInPicture(() => Promise.reject(new DOMException('no gesture', 'NotAllowedError')));
    render(<Harness />);
    fireEvent.playing(theVideo());
    const button = await screen.findByRole('button', { name: 'Pop out' });

    request.mockImplementation(() => Promise.resolve({}));
    fireEvent.click(button);
    expect(await screen.findByText('Playing in picture-in-picture')).toBeTruthy();
    expect(popOut()).toBeNull();

    act(() => {
      theVideo().dispatchEvent(new Event('leavepictureinpicture'));
    });
    expect(popOut()).toBeTruthy();
  });

  it('says so when "Pop out" is refused too', async () => {
    mockPictureInPicture(() => Promise.reject(new DOMException('no', 'NotAllowedError')));
    render(<Harness />);
    fireEvent.playing(theVideo());
    fireEvent.click(await screen.findByRole('button', { name: 'Pop out' }));
    expect(await screen.findByText(/kept the video in the page/)).toBeTruthy();
    expect(screen.getByTestId('video-player')).toBeTruthy();
  });

  it('stays a floating player without "Pop out" where there is no PiP API', async () => {
    render(<Harness />);
    fireEvent.playing(theVideo());
    await act(() => Promise.resolve());
    expect(popOut()).toBeNull();
    expect(screen.getByTestId('video-player')).toBeTruthy();
  });

  it('closes with its close button and with Escape', () => {
    const { unmount } = render(<Harness />);
    fireEvent.click(screen.getByRole('button', { name: 'Close video' }));
    expect(screen.queryByTestId('video-player')).toBeNull();
    expect(screen.getByText('idle: closed')).toBeTruthy();
    unmount();

    render(<Harness />);
    fireEvent.keyDown(screen.getByRole('button', { name: 'Close video' }), { key: 'Escape' });
    expect(screen.getByText('idle: closed')).toBeTruthy();
  });

  it('reports the end of the video', () => {
    render(<Harness />);
    fireEvent.ended(theVideo());
    expect(screen.getByText('idle: ended')).toBeTruthy();
  });
});
