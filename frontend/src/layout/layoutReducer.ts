// The page's layout as a pure state machine, so every transition is testable without a browser.
//
//   idle ──play──▶ playing (player shown, conversation minimized to the corner)
//     ▲              │  play again: the new video replaces the old one
//     └──────────────┘  ended | closed | session_ended: the conversation is restored
//
// While playing, `pip` tracks Picture-in-Picture: requested once the video plays; refused (no user
// gesture, which is the usual case for a tool call mid-conversation) leaves the in-page floating player
// with a "Pop out" button; left (the viewer brought it back) also offers "Pop out" again.

import type { PlayVideo } from '../channel/events';

export type PipState = 'pending' | 'requesting' | 'active' | 'refused' | 'returned' | 'unsupported';

export type EndReason = 'ended' | 'closed' | 'session_ended';

export type LayoutState =
  | {
      phase: 'idle';
      /** Why the last video went away; null before any video. 'session_ended': the conversation is over. */
      lastEnd: EndReason | null;
    }
  | {
      phase: 'playing';
      video: PlayVideo;
      pip: PipState;
    };

export type LayoutAction =
  | { type: 'play'; video: PlayVideo }
  | { type: 'pip_requested' }
  | { type: 'pip_entered' }
  | { type: 'pip_refused' }
  | { type: 'pip_unsupported' }
  | { type: 'pip_left' }
  | { type: 'ended' }
  | { type: 'closed' }
  | { type: 'session_ended' };

export const initialLayout: LayoutState = { phase: 'idle', lastEnd: null };

export function layoutReducer(state: LayoutState, action: LayoutAction): LayoutState {
  switch (action.type) {
    case 'play':
      if (state.phase === 'playing') {
        // Same <video> element, new source: a picture-in-picture window stays open across the change.
        const pip = state.pip === 'active' ? 'active' : state.pip === 'unsupported' ? 'unsupported' : 'pending';
        return { phase: 'playing', video: action.video, pip };
      }
      return { phase: 'playing', video: action.video, pip: 'pending' };
    case 'session_ended':
      return { phase: 'idle', lastEnd: 'session_ended' };
    case 'ended':
    case 'closed':
      return state.phase === 'playing' ? { phase: 'idle', lastEnd: action.type } : state;
  }
  // The rest only concern a video on screen; late ones (a PiP answer after the player closed) are dropped.
  if (state.phase !== 'playing') return state;
  switch (action.type) {
    case 'pip_requested':
      return state.pip === 'active' ? state : { ...state, pip: 'requesting' };
    case 'pip_entered':
      return { ...state, pip: 'active' };
    case 'pip_refused':
      return state.pip === 'active' ? state : { ...state, pip: 'refused' };
    case 'pip_unsupported':
      return { ...state, pip: 'unsupported' };
    case 'pip_left':
      return state.pip === 'active' ? { ...state, pip: 'returned' } : state;
  }
}

export function conversationMinimized(state: LayoutState): boolean {
  return state.phase === 'playing';
}

/** "Pop out" is offered only when the browser said no (or the viewer came back from PiP). */
export function offersPopOut(pip: PipState): boolean {
  return pip === 'refused' || pip === 'returned';
}
