import { describe, expect, it } from 'vitest';

import { sampleVideo } from '../test/fakes';
import {
  conversationMinimized,
  initialLayout,
  layoutReducer,
  offersPopOut,
  type LayoutAction,
  type LayoutState,
} from './layoutReducer';

const run = (...actions: LayoutAction[]): LayoutState => actions.reduce(layoutReducer, initialLayout);
const play = (title = 'Product Overview'): LayoutAction => ({ type: 'play', video: sampleVideo({ title }) });

describe('layoutReducer', () => {
  it('starts idle with the conversation full size', () => {
    expect(initialLayout).toEqual({ phase: 'idle', lastEnd: null });
    expect(conversationMinimized(initialLayout)).toBe(false);
  });

  it('idle → playing minimizes the conversation and waits to ask for PiP', () => {
    const state = run(play());
    expect(state).toMatchObject({ phase: 'playing', pip: 'pending' });
    expect(conversationMinimized(state)).toBe(true);
  });

  it.each([
    ['the video ends', { type: 'ended' }, 'ended'],
    ['the viewer closes it', { type: 'closed' }, 'closed'],
    ['the session ends', { type: 'session_ended' }, 'session_ended'],
  ] as const)('restores the conversation when %s', (_, action, reason) => {
    const state = run(play(), action);
    expect(state).toEqual({ phase: 'idle', lastEnd: reason });
    expect(conversationMinimized(state)).toBe(false);
  });

  it('refused PiP offers "Pop out"; entering PiP withdraws it; leaving PiP offers it again', () => {
    const refused = run(play(), { type: 'pip_requested' }, { type: 'pip_refused' });
    expect(refused).toMatchObject({ pip: 'refused' });
    expect(offersPopOut('refused')).toBe(true);
    const entered = layoutReducer(refused, { type: 'pip_entered' });
    expect(entered).toMatchObject({ pip: 'active' });
    expect(offersPopOut('active')).toBe(false);
    const left = layoutReducer(entered, { type: 'pip_left' });
    expect(left).toMatchObject({ phase: 'playing', pip: 'returned' });
    expect(offersPopOut('returned')).toBe(true);
    expect(conversationMinimized(left)).toBe(true);
  });

  it('never offers "Pop out" while PiP is pending, being requested, or unsupported', () => {
    expect(['pending', 'requesting', 'unsupported'].some((p) => offersPopOut(p as never))).toBe(false);
  });

  it('a second video replaces the first and keeps an open PiP window', () => {
    const inPip = run(play('One'), { type: 'pip_entered' });
    const replaced = layoutReducer(inPip, play('Two'));
    expect(replaced).toMatchObject({ phase: 'playing', pip: 'active' });
    expect(replaced.phase === 'playing' && replaced.video.title).toBe('Two');
    const inline = run(play('One'), { type: 'pip_refused' }, play('Two'));
    expect(inline).toMatchObject({ pip: 'pending' }); // a new video is a new chance to pop out
  });

  it('drops late PiP answers once the player is gone', () => {
    const idle = run(play(), { type: 'closed' });
    for (const type of ['pip_requested', 'pip_entered', 'pip_refused', 'pip_unsupported', 'pip_left', 'ended', 'closed'] as const) {
      expect(layoutReducer(idle, { type })).toBe(idle);
    }
  });

  it('a refusal arriving after PiP was entered does not undo it', () => {
    expect(run(play(), { type: 'pip_entered' }, { type: 'pip_refused' })).toMatchObject({ pip: 'active' });
  });

  it('plays again after the session ended', () => {
    const state = run(play(), { type: 'session_ended' }, play('Again'));
    expect(state).toMatchObject({ phase: 'playing', pip: 'pending' });
    expect(state.phase === 'playing' && state.video.title).toBe('Again');
  });
});
