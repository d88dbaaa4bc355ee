// The recent packets of one stream, kept as bytes for retransmission (NACK), not as objects.

/** A kept packet, as a retransmission needs it. */
interface KeptPacket {
  timestamp: number;
  marker: boolean;
  payload: Buffer;
}

/**
 * A ring of the last `slots` packets of a stream by sequence number: payloads are copied into one preallocated
 * buffer and the header fields into typed arrays, so keeping a packet allocates nothing and the ring never grows.
 * A payload longer than a slot is not kept.
 */
export class PacketHistory {
  private readonly bytes: Buffer;
  private readonly seqs: Int32Array;
  private readonly timestamps: Uint32Array;
  private readonly lengths: Uint16Array;
  private readonly markers: Uint8Array;

  constructor(
    private readonly slots = 512,
    private readonly slotBytes = 1500,
  ) {
    this.bytes = Buffer.alloc(slots * slotBytes);
    this.seqs = new Int32Array(slots).fill(-1);
    this.timestamps = new Uint32Array(slots);
    this.lengths = new Uint16Array(slots);
    this.markers = new Uint8Array(slots);
  }

  /** Keeps a packet, replacing the one `slots` sequence numbers before it. */
  put(seq: number, timestamp: number, marker: boolean, payload: Buffer): void {
    const i = seq % this.slots;
    if (payload.length > this.slotBytes) {
      this.seqs[i] = -1;
      return;
    }
    payload.copy(this.bytes, i * this.slotBytes);
    this.seqs[i] = seq;
    this.timestamps[i] = timestamp;
    this.lengths[i] = payload.length;
    this.markers[i] = marker ? 1 : 0;
  }

  /** Whether the packet with sequence number `seq` and this timestamp is kept. */
  has(seq: number, timestamp: number): boolean {
    const i = seq % this.slots;
    return this.seqs[i] === seq && this.timestamps[i] === timestamp >>> 0;
  }

  /** The packet with sequence number `seq`, while it is kept (its payload is a view into the ring). */
  get(seq: number): KeptPacket | undefined {
    const i = seq % this.slots;
    if (this.seqs[i] !== seq) return undefined;
    const at = i * this.slotBytes;
    return { timestamp: this.timestamps[i]!, marker: this.markers[i] === 1, payload: this.bytes.subarray(at, at + this.lengths[i]!) };
  }
}
