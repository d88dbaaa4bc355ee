import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../logger.ts';
import { Metrics } from '../metrics.ts';
import { errorEntry, GatewayError } from './gateway-error.ts';
import { serveMessage, type MessageFamily } from './message-pipeline.ts';

const FAMILY: MessageFamily = { name: 'test-ws', labelKey: 'op', internal: errorEntry(-1, 'internal'), knows: (op) => op.startsWith('op.') };

describe('serveMessage', () => {
  const metrics = new Metrics();
  const d = { log: createLogger('silent'), metrics };
  /** Serves `run` and returns the frames its replies wrote. */
  const serve = async (label: string, run: () => unknown): Promise<string[]> => {
    const frames: string[] = [];
    await serveMessage(FAMILY, d, label, {}, run, {
      ok: (v) => frames.push(`ok ${JSON.stringify(v)}`),
      refused: (e) => frames.push(`refused ${e.entry.code} ${e.message}`),
    });
    return frames;
  };

  it('writes a result or a refusal, once', async () => {
    assert.deepEqual(await serve('op.ok', async () => ({ v: 1 })), ['ok {"v":1}']);
    assert.deepEqual(await serve('op.sync', () => 2), ['ok 2']);
    assert.deepEqual(
      await serve('op.refused', async () => {
        throw new GatewayError(errorEntry(7, 'refused'), 'refused: because');
      }),
      ['refused 7 refused: because'],
    );
  });

  it('answers a run that rejects or throws with the family’s INTERNAL entry, never rejecting itself', async () => {
    const rejects = await serve('op.rejects', async () => {
      throw new Error('boom');
    });
    const throws = await serve('op.throws', () => {
      throw new TypeError('boom at once');
    });
    assert.deepEqual([rejects, throws], [['refused -1 internal'], ['refused -1 internal']]);
  });

  it('survives a reply writer that throws, without writing a second reply', async () => {
    const frames: string[] = [];
    await serveMessage(FAMILY, d, 'op.gone', {}, () => 1, {
      ok: () => {
        frames.push('ok');
        throw new Error('socket gone');
      },
      refused: () => frames.push('refused'),
    });
    assert.deepEqual(frames, ['ok']);
  });

  it('counts every request under its family, label and code; a label the family does not know is counted as unknown', async () => {
    await serve('no such op', () => 3);
    await serve('constructor', () => 4);
    const text = await metrics.registry.metrics();
    for (const [label, code] of [['op.ok', '0'], ['op.refused', '7'], ['op.rejects', '-1'], ['op.throws', '-1'], ['op.gone', '0'], ['unknown', '0']] as const) {
      assert.match(text, new RegExp(`family="test-ws",command="${label.replace('.', '\\.')}",code="${code}"} ${label === 'unknown' ? 2 : 1}`));
    }
    assert.doesNotMatch(text, /command="no such op"|command="constructor"/);
  });
});
