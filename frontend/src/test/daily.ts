// daily-js's prebuilt frame as the page tests see it, recorded: createFrame(parent, options) → join({url}),
// on('app-message', cb), sendAppMessage(data, to), destroy(). Tests replace the package with it:
//
//   vi.mock('@daily-co/daily-js', () => import('../test/daily').then((m) => m.dailyModule));
//
// and read (and reset, in beforeEach) `daily`, the one recorder every frame writes to.

export interface RecordedFrame {
  parent: HTMLElement;
  joined: string[];
  handlers: Map<string, (event: unknown) => void>;
  sent: { data: unknown; to: string }[];
}

export const daily = { frames: [] as RecordedFrame[], destroyed: 0 };

export function resetDaily(): void {
  daily.frames.length = 0;
  daily.destroyed = 0;
}

export const dailyModule = {
  default: {
    createFrame(parent: HTMLElement) {
      const frame: RecordedFrame = { parent, joined: [], handlers: new Map(), sent: [] };
      daily.frames.push(frame);
      return {
        on(event: string, handler: (event: unknown) => void) {
          frame.handlers.set(event, handler);
        },
        join({ url }: { url: string }) {
          frame.joined.push(url);
          return Promise.resolve();
        },
        sendAppMessage(data: unknown, to: string) {
          frame.sent.push({ data, to });
        },
        destroy() {
          daily.destroyed += 1;
          return Promise.resolve();
        },
      };
    },
  },
};
