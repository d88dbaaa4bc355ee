// A subscriber's path loss read from its transport-wide congestion control feedback (draft-holmer-rmcat-transport-
// wide-cc-extensions-01): every packet sent with a transport-wide sequence number is reported received or not, before
// any retransmission repairs it, which receiver reports (fraction lost after NACK/RTX) understate.
import { RunLengthChunk, StatusVectorChunk, type TransportWideCC } from 'werift';

/** The shortest window a loss fraction is reported over, ms. */
const WINDOW_MS = 500;
/** The fewest packets a window needs before its fraction means anything. */
const MIN_PACKETS = 20;

/** Counts the packets reported received and lost across feedback packets; a loss fraction per window. */
export class TwccLoss {
  /** The transport-wide sequence number after the last one counted (-1 before the first feedback). */
  private next = -1;
  private received = 0;
  private total = 0;
  private windowStart: number;

  constructor(private readonly now: () => number = Date.now) {
    this.windowStart = now();
  }

  /** Whether any feedback arrived: the subscriber reports its loss this way, and receiver reports are not needed. */
  get reporting(): boolean {
    return this.next >= 0;
  }

  /** Counts one feedback packet; returns the window's loss fraction (0–1) when the window closed, else undefined. */
  feedback(fb: TransportWideCC): number | undefined {
    let seq = fb.baseSequenceNumber;
    let left = fb.packetStatusCount;
    const count = (status: number) => {
      // Packets a feedback reported already (an overlapping report) are counted once.
      if (this.next < 0 || ((seq - this.next) & 0xffff) < 0x8000) {
        this.total++;
        if (status !== 0) this.received++;
        this.next = (seq + 1) & 0xffff;
      }
      seq = (seq + 1) & 0xffff;
      left--;
    };
    for (const chunk of fb.packetChunks) {
      if (chunk instanceof RunLengthChunk) {
        for (let i = 0; i < chunk.runLength && left > 0; i++) count(chunk.packetStatus);
      } else if (chunk instanceof StatusVectorChunk) {
        for (const symbol of chunk.symbolList) {
          if (left <= 0) break;
          count(symbol);
        }
      }
    }
    const t = this.now();
    if (t - this.windowStart < WINDOW_MS || this.total < MIN_PACKETS) return undefined;
    const fraction = 1 - this.received / this.total;
    this.received = 0;
    this.total = 0;
    this.windowStart = t;
    return fraction;
  }
}
