// What every WebSocket gateway (/rtc, the Chat SDK's, trtc-sdk-v5 signalling) does around one request message, as
// http-pipeline.ts does for the HTTP families. A family's `run` authenticates and dispatches in its protocol's order
// and returns the reply's body or throws a GatewayError; this module hands the outcome to the family's reply writer
// (its frame envelope), records the request's metrics and log line, and turns a crash into the family's INTERNAL
// entry, so that no request goes unanswered and no family writes that code again.
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { GatewayError, type ErrorEntry } from './gateway-error.ts';

/** One WebSocket protocol's part in the pipeline. */
export interface MessageFamily {
  /** The protocol's name in metrics and logs: rtc, chat, trtc-sdk. */
  readonly name: string;
  /** What a request's label (its type, command or servcmd) is called in log lines. */
  readonly labelKey: string;
  /** The entry a crash is answered with. */
  readonly internal: ErrorEntry<number>;
  /** Whether `label` is one of the protocol's requests: any other client-chosen label is counted as `unknown`. */
  knows(label: string): boolean;
}

/** Writes the two outcomes of a request in the family's frames. */
interface MessageReplies<T> {
  ok(result: T): void;
  refused(error: GatewayError): void;
}

/** Serves one request message through `run`, then replies, counts and logs it; never rejects. */
export async function serveMessage<T>(
  family: MessageFamily,
  d: { log: Logger; metrics: Metrics },
  rawLabel: string,
  fields: Record<string, unknown>,
  run: () => Promise<T> | T,
  replies: MessageReplies<T>,
): Promise<void> {
  const start = process.hrtime.bigint();
  const label = family.knows(rawLabel) ? rawLabel : 'unknown';
  let outcome: { result: T } | { error: GatewayError };
  try {
    outcome = { result: await run() };
  } catch (err) {
    if (err instanceof GatewayError) outcome = { error: err };
    else {
      d.log.error({ ...fields, [family.labelKey]: label, err }, `${family.name} request crashed`);
      outcome = { error: new GatewayError(family.internal) };
    }
  }
  try {
    if ('result' in outcome) replies.ok(outcome.result);
    else replies.refused(outcome.error);
  } catch (err) {
    // The reply could not be written (the socket is gone): the request is still counted, once.
    d.log.warn({ ...fields, [family.labelKey]: label, err }, `${family.name} reply not written`);
  }
  const code = 'error' in outcome ? Number(outcome.error.entry.code) : 0;
  d.metrics.observe(family.name, label, code, start);
  if ('error' in outcome) d.log.debug({ ...fields, [family.labelKey]: label, code, message: outcome.error.message }, `${family.name} request refused`);
}
