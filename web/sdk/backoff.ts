// Reconnection delays: exponential backoff with "equal jitter".

/** Default shortest reconnection delay, ms. */
export const DEFAULT_MIN_DELAY_MS = 500;
/** Default longest reconnection delay, ms. */
export const DEFAULT_MAX_DELAY_MS = 15_000;

/** The delay before reconnection attempt `attempt` (1-based): random in [d/2, d], d = min(max, min · 2^(attempt-1)). */
export function backoffDelay(attempt: number, minDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const d = Math.min(maxDelayMs, minDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + random() * (d / 2));
}
