import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LayerChoice } from './layer-choice.ts';

/** A choice on a clock the test moves, with the big stream arriving at `bigBps`. */
function rig(bigBps = 800_000) {
  let t = 0;
  const c = new LayerChoice(() => t);
  c.smallAvailable = true;
  /** Moves the clock by `ms`, feeding the big stream's packets meanwhile (10 per second window step). */
  const advance = (ms: number) => {
    for (let i = 0; i < ms / 100; i++) {
      t += 100;
      c.bigPacket(bigBps / 8 / 10);
    }
  };
  advance(1000);
  return { c, advance };
}

describe('LayerChoice', () => {
  it('sends what was asked while the path is clear; the big stream when there is no small one', () => {
    const { c } = rig();
    assert.equal(c.layer(), 'big');
    c.asked = 'small';
    assert.equal(c.layer(), 'small');
    c.smallAvailable = false;
    assert.equal(c.layer(), 'big');
  });

  it('drops to the small stream on loss over 10 %, and back after 5 s under 2 %', () => {
    const { c, advance } = rig();
    c.lossReport(0.05);
    assert.equal(c.layer(), 'big', 'smoothed loss 2.5 % is not congestion');
    c.lossReport(0.3);
    assert.equal(c.layer(), 'small');
    for (let i = 0; i < 4; i++) c.lossReport(0); // smoothed: 8 %, 4 %, 2 %, 1 %
    assert.equal(c.layer(), 'small', 'the loss must stay low for the hold time');
    advance(4900);
    c.lossReport(0);
    assert.equal(c.layer(), 'small');
    advance(200);
    c.lossReport(0);
    assert.equal(c.layer(), 'big');
  });

  it('drops to the small stream when the estimate (REMB) is below the big stream’s bitrate; a higher estimate keeps it', () => {
    const { c } = rig(800_000);
    c.estimate(2_000_000);
    assert.equal(c.layer(), 'big');
    c.estimate(500_000);
    assert.equal(c.layer(), 'small');
    c.estimate(5_000_000);
    assert.equal(c.layer(), 'small', 'going up waits for the hold time, whatever the estimate');
  });

  it('waits twice as long after a try of the big stream that failed soon, up to 60 s; a lasting try resets the wait', () => {
    const { c, advance } = rig();
    const congest = () => {
      c.lossReport(1);
      c.lossReport(1);
      assert.equal(c.layer(), 'small');
      c.lossReport(0);
      c.lossReport(0);
      c.lossReport(0);
      c.lossReport(0);
      c.lossReport(0);
      c.lossReport(0);
    };
    /** How long the choice stays on the small stream with a clear path, in whole seconds. */
    const heldFor = () => {
      for (let s = 1; s <= 120; s++) {
        advance(1000);
        c.lossReport(0);
        if (c.layer() === 'big') return s;
      }
      return Infinity;
    };
    congest();
    assert.equal(heldFor(), 5);
    congest(); // fails at once
    assert.equal(heldFor(), 10);
    congest();
    assert.equal(heldFor(), 20);
    congest();
    assert.equal(heldFor(), 40);
    congest();
    assert.equal(heldFor(), 60);
    congest();
    assert.equal(heldFor(), 60, 'at most 60 s');
    advance(15_000); // this try lasts
    congest();
    assert.equal(heldFor(), 5);
  });

  it('ignores what is not a fraction', () => {
    const { c } = rig();
    c.lossReport(-3);
    c.lossReport(Number.NaN);
    assert.equal(c.layer(), 'big');
  });
});
