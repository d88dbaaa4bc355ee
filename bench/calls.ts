import { DEFAULT_CONFIG } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { tempDir } from '../test/helpers/server.ts';
import { againstBare, recorded, rows, startBenchServer, type BenchRow } from './harness.ts';

const FULL_CALL_S = Number(process.env.BENCH_DURATION ?? 5);

/** get_call_info over HTTP, and full calls (start → accept → end) through the call engine, vs the bare server. */
export async function benchCalls(): Promise<BenchRow[]> {
  const s = await startBenchServer();
  let info;
  try {
    await s.post('im_open_login_svc/multiaccount_import', { Accounts: ['robot', 'callee'] });
    const started = (await s.post('call_engine_http_srv/start_call_by_robot', {
      Robot_Account: 'robot',
      CalleeList_Account: ['callee'],
      Timeout: 600_000,
      CallInfo: { MediaType: 'Audio' },
    })) as { Response: { CallId: string } };
    info = await againstBare(s.url('call_engine_http_srv/get_call_info'), JSON.stringify({ CallId: started.Response.CallId }));
  } finally {
    await s.child.stop('SIGTERM');
  }

  // Full calls run in this process through the service API (clients will drive accept over the real-time plane).
  const server = await startServer({ ...DEFAULT_CONFIG, dataDir: tempDir('trtcd-bench-'), port: 0, logLevel: 'silent' });
  let done = 0;
  try {
    const id = server.devApp!.sdkAppId;
    const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
    await server.accounts.importMany(id, users.map((userId) => ({ userId })));
    const deadline = Date.now() + FULL_CALL_S * 1000;
    // Ten caller/callee pairs in parallel, each placing calls back to back.
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        while (Date.now() < deadline) {
          const { call } = await server.calls.startCall({ sdkAppId: id, caller: users[2 * i]!, callees: [users[2 * i + 1]!], mediaType: 'Video' });
          await server.calls.accept(id, call.callId, users[2 * i + 1]!);
          await server.calls.endCall(id, call.callId);
          done++;
        }
      }),
    );
  } finally {
    await server.close();
  }
  const perSecond = done / FULL_CALL_S;
  return [
    ...recorded(rows('REST v4 get_call_info (active 1v1 call)', info, 0, Infinity)),
    {
      name: 'Full call (start → accept → end, 3 persisted transitions) per second, in process',
      value: perSecond.toFixed(0),
      baseline: `${info.bare.rps.toFixed(0)} req/s (bare node:http)`,
      ratio: perSecond / info.bare.rps,
      target: 'recorded (no target set)',
      pass: true,
    },
  ];
}
