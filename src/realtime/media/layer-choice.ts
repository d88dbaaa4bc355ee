// Which simulcast layer, the big or the small stream, one subscriber is sent: what it asked for, narrowed by its
// congestion feedback. The choice only names a layer; the writer switches at the chosen layer's next keyframe.

/** A publisher's video layer. */
type Layer = 'big' | 'small';

/** Smoothed path loss (transport-wide feedback, else RTCP receiver reports) above which the subscriber is congested. */
const LOSS_HIGH = 0.1;
/** Smoothed loss below which the subscriber's path counts as clear. */
const LOSS_LOW = 0.02;
/** How long the path must be clear before the big stream is tried again, ms; doubled after each failed try. */
const UP_HOLD_MS = 5000;
/** Longest wait before trying the big stream again, ms. */
const UP_HOLD_MAX_MS = 60_000;
/** A try of the big stream that ends in congestion within this long counts as failed, ms. */
const TRY_MS = 10_000;
/** The window the big stream's bitrate is measured over, ms. */
const RATE_WINDOW_MS = 1000;

/**
 * One subscriber's layer of one publisher. Down: the subscriber's smoothed loss is over 10 %, or, while it is sent
 * the big stream, its bandwidth estimate (REMB) is below the big stream's bitrate. Up: the loss has stayed under 2 %
 * for the hold time (5 s, doubling after a try that failed within 10 s, at most 60 s). No padding or probing is sent:
 * a try is the probe, and the doubling hold bounds how often one is made. Without a small stream the big one is sent.
 */
export class LayerChoice {
  /** What the subscriber asked for. */
  asked: Layer = 'big';
  /** Whether the publisher sends a small stream. */
  smallAvailable = false;
  private congested = false;
  private clearSince: number | undefined;
  private hold = UP_HOLD_MS;
  private triedAt: number | undefined;
  private loss = 0;
  private bigBytes = 0;
  private windowStart: number;
  private bigBps = 0;

  constructor(private readonly now: () => number = Date.now) {
    this.windowStart = now();
  }

  /** The layer to send now. */
  layer(): Layer {
    if (!this.smallAvailable) return 'big';
    return this.asked === 'small' || this.congested ? 'small' : 'big';
  }

  /** A packet of the big stream arrived for this subscriber (`bytes` of payload): its bitrate is measured. */
  bigPacket(bytes: number): void {
    this.bigBytes += bytes;
    const t = this.now();
    const span = t - this.windowStart;
    if (span >= RATE_WINDOW_MS) {
      this.bigBps = (this.bigBytes * 8 * 1000) / span;
      this.bigBytes = 0;
      this.windowStart = t;
    }
  }

  /** The fraction (0–1) of the packets sent to the subscriber that it lost (transport-wide feedback or a receiver report). */
  lossReport(fraction: number): void {
    if (!Number.isFinite(fraction)) return;
    this.loss = this.loss * 0.5 + Math.min(1, Math.max(0, fraction)) * 0.5;
    this.evaluate(undefined);
  }

  /** The subscriber's receive bandwidth estimate (REMB), bits/s. */
  estimate(bps: number): void {
    this.evaluate(bps);
  }

  private evaluate(estimateBps: number | undefined): void {
    const t = this.now();
    const onBig = this.layer() === 'big';
    const overBudget = onBig && estimateBps !== undefined && this.bigBps > 0 && estimateBps < this.bigBps;
    if (!this.congested) {
      if (this.loss > LOSS_HIGH || overBudget) {
        this.congested = true;
        this.clearSince = undefined;
        // A try of the big stream that failed soon: wait longer before the next.
        this.hold = this.triedAt !== undefined && t - this.triedAt < TRY_MS ? Math.min(this.hold * 2, UP_HOLD_MAX_MS) : UP_HOLD_MS;
        this.triedAt = undefined;
      }
      return;
    }
    if (this.loss >= LOSS_LOW) {
      this.clearSince = undefined;
      return;
    }
    this.clearSince ??= t;
    if (t - this.clearSince >= this.hold) {
      this.congested = false;
      this.clearSince = undefined;
      this.triedAt = t;
    }
  }
}
