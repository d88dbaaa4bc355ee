import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecvDelta, RtcpHeader, RunLengthChunk, StatusVectorChunk, TransportWideCC } from 'werift';
import { TwccLoss } from './twcc-loss.ts';

/** A feedback packet as a receiver writes it, read back through werift's parser (as the transport hands it over). */
function feedback(base: number, statuses: number[]): TransportWideCC {
  const chunks: Array<RunLengthChunk | StatusVectorChunk> = [];
  for (let i = 0; i < statuses.length; i += 14) {
    const part = statuses.slice(i, i + 14);
    while (part.length < 14) part.push(0);
    chunks.push(new StatusVectorChunk({ type: 1, symbolSize: 0, symbolList: part }));
  }
  const deltas = statuses.filter((s) => s === 1).map(() => new RecvDelta({ type: 1, delta: 250 }));
  const fb = new TransportWideCC({ senderSsrc: 1, mediaSourceSsrc: 2, baseSequenceNumber: base, packetStatusCount: statuses.length, referenceTime: 1, fbPktCount: 0, packetChunks: chunks, recvDeltas: deltas });
  const wire = fb.serialize();
  return TransportWideCC.deSerialize(wire.subarray(4), RtcpHeader.deSerialize(wire));
}

const pattern = (n: number, lostEvery: number) => Array.from({ length: n }, (_, i) => (i % lostEvery === lostEvery - 1 ? 0 : 1));

describe('TwccLoss', () => {
  it('reports the fraction of packets not received once a window of 500 ms has passed', () => {
    let now = 0;
    const loss = new TwccLoss(() => now);
    assert.equal(loss.feedback(feedback(100, pattern(40, 4))), undefined, 'the window is still open');
    now = 600;
    const f = loss.feedback(feedback(140, pattern(40, 4)));
    assert.ok(f !== undefined && Math.abs(f - 0.25) < 1e-9, `a quarter lost: ${f}`);
    now = 1200;
    assert.equal(loss.feedback(feedback(180, pattern(40, 1000))), 0, 'nothing lost in the next window');
  });

  it('reads run-length chunks too, counts a packet reported twice once, and follows the sequence across 65535', () => {
    let now = 0;
    const loss = new TwccLoss(() => now);
    const run = (base: number, status: number, n: number) =>
      new TransportWideCC({ baseSequenceNumber: base, packetStatusCount: n, packetChunks: [new RunLengthChunk({ packetStatus: status, runLength: n })], recvDeltas: [] });
    loss.feedback(run(65530, 1, 30));
    // An overlapping report of the last 10 (now received) adds nothing; 10 new packets are lost.
    now = 600;
    const f = loss.feedback(run(14, 0, 20));
    assert.ok(f !== undefined && Math.abs(f - 10 / 40) < 1e-9, `10 of 40 lost: ${f}`);
  });

  it('waits for enough packets before it reports', () => {
    let now = 0;
    const loss = new TwccLoss(() => now);
    now = 1000;
    assert.equal(loss.feedback(feedback(0, pattern(5, 2))), undefined);
    assert.ok(loss.feedback(feedback(5, pattern(20, 2))) !== undefined);
  });
});
