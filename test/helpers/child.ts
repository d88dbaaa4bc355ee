import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of the `trtcd` executable. */
export const TRTCD_BIN = fileURLToPath(new URL('../../bin/trtcd', import.meta.url));

/** The command line running `trtcd` with `args`, under `umask` (octal, e.g. `000`) when given. */
function command(args: string[], umask?: string): [string, string[]] {
  if (umask === undefined) return [process.execPath, [TRTCD_BIN, ...args]];
  return ['/bin/sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, TRTCD_BIN, ...args]];
}

/** Runs a short `trtcd` command to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, opts: { umask?: string; cwd?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(...command(args, opts.umask), { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000, cwd: opts.cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A `trtcd start` child process. */
export interface ServerChild {
  proc: ChildProcess;
  port: number;
  /** http://127.0.0.1:port, or https:// when the server serves TLS. */
  url: string;
  /** Everything the child printed on stdout so far. */
  output(): string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `trtcd start --port 0` with extra arguments and waits until it reports its port. */
export function startChild(args: string[], env: NodeJS.ProcessEnv = {}, opts: { umask?: string } = {}): Promise<ServerChild> {
  const proc = spawn(...command(['start', '--port', '0', ...args], opts.umask), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"trtcd listening"/.exec(out);
      if (m) {
        const port = Number(m[1]);
        // With --tls-cert/--tls-key the line's url is https://.
        const scheme = /"url":"(https?):/.exec(m[0])?.[1] ?? 'http';
        resolve({
          proc,
          port,
          url: `${scheme}://127.0.0.1:${port}`,
          output: () => out,
          stop: (signal = 'SIGTERM') => {
            if (proc.exitCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`trtcd exited with ${code} before listening:\n${out}\n${err}`)));
  });
}
