/** What `within` returns when the promise did not settle in time. */
export const TIMED_OUT = Symbol('timed out');

/** `p`'s value, or TIMED_OUT when it has not settled within `ms` (a rejection within `ms` is thrown). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  if (ms <= 0) return TIMED_OUT;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<typeof TIMED_OUT>((r) => (timer = setTimeout(() => r(TIMED_OUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
