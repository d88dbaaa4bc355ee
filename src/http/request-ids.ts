// The request ids of the API families: 20 random hex digits per source plus a 12-digit counter, unique without
// drawing randomness per request. Each gateway has its own source (the composition root may share one).
import { randomBytes } from 'node:crypto';

/** A source of unique request ids. */
export class RequestIds {
  private readonly prefix = randomBytes(10).toString('hex');
  private seq = 0;

  /** 32 lowercase hex digits, like the documented IVH RequestIDs. */
  hex(): string {
    this.seq++;
    return this.prefix + this.seq.toString(16).padStart(12, '0');
  }

  /** A REST v4 RequestId shaped like Tencent's: `Id-<32 hex>-O-Seq-<n>`. */
  rest(): string {
    const hex = this.hex();
    return `Id-${hex}-O-Seq-${this.seq % 0x7fffffff}`;
  }
}
