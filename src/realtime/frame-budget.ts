/** Frames one WebSocket may send per wall-clock second: a client over it is faulty or hostile. */
export class FrameBudget {
  private window = 0;
  private frames = 0;

  constructor(private readonly perSecond: number) {}

  /** Counts one frame; true once more than the budget arrived within the current second. */
  spend(): boolean {
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.window) {
      this.window = now;
      this.frames = 0;
    }
    return ++this.frames > this.perSecond;
  }
}
