// What every HTTP gateway (REST v4, Cloud API 3.0, IVH) does around its own steps. A family's `run` admits, parses,
// authenticates, limits and dispatches in its protocol's order and ends in an Answer; this module writes the answer
// in the family's envelope, records the request's metrics and log line, and turns a crash into the family's INTERNAL
// error, so that no request is left unanswered and no family writes that code again.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { GatewayError, type ErrorEntry } from './gateway-error.ts';

/** How a request ended: a result, a refusal (with a payload some protocols echo), or a client gone during its body. */
export type Answer<P> = { result: P; close?: boolean } | { error: GatewayError; payload?: P; close?: boolean } | { aborted: true };

/** A replied answer: the result or the refusal. */
export type Reply<P> = Exclude<Answer<P>, { aborted: true }>;

/** One protocol's part in the pipeline. */
export interface HttpFamily<P> {
  /** The protocol's name in metrics and logs: rest-v4, cloud-api, ivh. */
  readonly name: string;
  /** What a request's label (its command, action or API) is called in log lines. */
  readonly labelKey: string;
  /** The entry a crash is answered with. */
  readonly internal: ErrorEntry<number | string>;
  /** Writes the answer in the protocol's envelope; `close` asks for the connection to be closed after it. */
  write(res: ServerResponse, requestId: string, reply: Reply<P>, close: boolean): void;
}

/** The request's id and label as they stand when it ends (a family may learn either while it runs). */
interface RequestFacts {
  requestId(): string;
  label(): string;
}

/** Serves one request through `run`, then replies, counts and logs it; never throws. */
export function serveHttp<P>(family: HttpFamily<P>, d: { log: Logger; metrics: Metrics }, res: ServerResponse, facts: RequestFacts, run: () => Promise<Answer<P>>): void {
  const start = process.hrtime.bigint();
  const done = (reply: Reply<P>, close: boolean) => {
    const requestId = facts.requestId();
    const label = facts.label();
    family.write(res, requestId, reply, close);
    const code = 'error' in reply ? reply.error.entry.code : 0;
    d.metrics.observeCode(family.name, label, String(code), start);
    if ('error' in reply) d.log.info({ requestId, [family.labelKey]: label, code, message: reply.error.message }, `${family.name} request failed`);
    else d.log.debug({ requestId, [family.labelKey]: label }, `${family.name} request`);
  };
  let running: Promise<Answer<P>>;
  try {
    running = run();
  } catch (err) {
    running = Promise.reject(err);
  }
  running.then(
    (answer) => {
      if ('aborted' in answer) d.log.debug({ requestId: facts.requestId(), [family.labelKey]: facts.label() }, `${family.name} request aborted by the client during its body`);
      else done(answer, answer.close === true);
    },
    (err: unknown) => {
      const requestId = facts.requestId();
      d.log.error({ requestId, [family.labelKey]: facts.label(), err }, `${family.name} request crashed`);
      if (!res.headersSent) family.write(res, requestId, { error: new GatewayError(family.internal) }, true);
      d.metrics.observeCode(family.name, facts.label(), String(family.internal.code), start);
    },
  );
}
