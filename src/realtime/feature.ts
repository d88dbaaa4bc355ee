import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Bus, BusHandler } from '../bus/bus.ts';
import type { Logger } from '../logger.ts';
import { DomainError } from '../services/errors.ts';
import { RtcErrors, type RtcErrorEntry, type RtcRequest } from './protocol.ts';
import type { RtcSession } from './session.ts';
import { entryFor, GatewayError } from '../gateways/gateway-error.ts';

/** Answers one authenticated request: the reply's fields, or an RtcError. */
export type RtcHandler = (s: RtcSession, req: RtcRequest) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

/** Why a session ended: `logout` (the user left on purpose) or `disconnected` (closed, expired, never resumed). */
export type SessionEnd = 'logout' | 'disconnected';

/** A part of the /rtc protocol (TRTC rooms, calls, live rooms): its requests and what it does as sessions come and go. */
export interface RtcFeature {
  /** Request handlers by message type. */
  readonly handlers: Readonly<Record<string, RtcHandler>>;
  /** A new session logged in (not a resumption); runs after the auth reply is written. */
  started?(s: RtcSession): void;
  /** What the session is in, merged into the auth reply. */
  describe?(s: RtcSession): Record<string, unknown>;
  /** The session ended: leave whatever it is in. */
  ended(s: RtcSession, how: SessionEnd): Promise<void> | void;
  /** Starts listening to the bus. */
  start?(): void;
  /** Stops listening to the bus. */
  close?(): void;
}

/** The sessions of one user on this node. */
export interface SessionDirectory {
  sessionsOf(sdkAppId: number, userId: string): Iterable<RtcSession>;
  /** Whether the user has a live session on this node or, with several nodes, on any. */
  online(sdkAppId: number, userId: string): Promise<boolean>;
}

/** A request handler whose fields are checked against a TypeBox schema first (INVALID_ARGUMENT naming the field). */
export function typed<S extends TSchema>(schema: S, fn: (s: RtcSession, req: Static<S>) => ReturnType<RtcHandler>): RtcHandler {
  const check = TypeCompiler.Compile(schema);
  return (s, req) => {
    if (!check.Check(req)) {
      const e = check.Errors(req).First();
      throw new GatewayError(RtcErrors.INVALID_ARGUMENT, e ? `${e.path.slice(1) || 'request'}: ${e.message}` : RtcErrors.INVALID_ARGUMENT.message);
    }
    return fn(s, req);
  };
}

/** Turns a service refusal into an RtcError through a table keyed by DomainError detail, then code; rethrows others. */
export function refusal(err: unknown, table: Partial<Record<string, RtcErrorEntry>>): never {
  if (err instanceof DomainError) {
    const entry = entryFor(err, table, (code) => (code === 'INVALID_ARGUMENT' ? RtcErrors.INVALID_ARGUMENT : undefined));
    if (entry) throw new GatewayError(entry, err.message);
  }
  throw err;
}

/** Runs a service call, turning its refusals into RtcErrors through `table` (see `refusal`). */
export async function withRefusals<T>(table: Partial<Record<string, RtcErrorEntry>>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    refusal(err, table);
  }
}

/** Subscribes to a bus topic; a handler that throws is logged as `${what} failed` instead of reaching the publisher. */
export function listen(bus: Bus, topic: string, log: Logger, what: string, handler: BusHandler): () => void {
  return bus.subscribe(topic, (payload, remote) => {
    try {
      handler(payload, remote);
    } catch (err) {
      log.error({ err }, `${what} failed`);
    }
  });
}
