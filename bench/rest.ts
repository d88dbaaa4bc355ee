import { againstBare, rows, startBenchServer, type BenchRow } from './harness.ts';

/** (a) authenticated REST v4 account_check vs a bare node:http server answering the same-sized JSON. */
export async function benchRest(): Promise<BenchRow[]> {
  const s = await startBenchServer();
  try {
    const m = await againstBare(s.url('im_open_login_svc/account_check'), JSON.stringify({ CheckItem: [{ UserID: 'administrator' }] }));
    return rows('REST v4 account_check (1 account, admin UserSig)', m, 0.5, 5);
  } finally {
    await s.child.stop('SIGTERM');
  }
}
