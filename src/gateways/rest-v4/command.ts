import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { AccountsService } from '../../services/accounts/accounts-service.ts';
import type { CallsService } from '../../services/calls/calls-service.ts';
import type { GroupsService } from '../../services/chat/groups-service.ts';
import type { MessagesService } from '../../services/chat/messages-service.ts';
import type { GiftsService } from '../../services/gifts/gifts-service.ts';
import type { LiveService } from '../../services/live/live-service.ts';
import type { App, AppsService } from '../../services/apps/apps-service.ts';
import type { DomainError } from '../../services/errors.ts';
import { RestErrors, type RestErrorEntry } from './errors.ts';
import { entryFor } from '../gateway-error.ts';

/** The services a REST v4 handler may call. */
export interface RestServices {
  accounts: AccountsService;
  calls: CallsService;
  live: LiveService;
  gifts: GiftsService;
  /** Chat C2C messages (openim). */
  messages: MessagesService;
  /** Chat groups and group messages (group_open_http_svc). */
  groups: GroupsService;
  /** App settings that REST commands change (live_config/set_callback_token, call_config and live_config callbacks). */
  apps: AppsService;
}

/** What a handler knows about the request it serves. */
export interface RestContext {
  app: App;
  identifier: string;
  requestId: string;
  /** The caller's address, for callbacks' ClientIP. */
  clientIp: string;
  services: RestServices;
}

/** A published per-app limit: `points` calls per `seconds`. */
export interface RateLimit {
  points: number;
  seconds: number;
}

/** One `<service>/<command>` entry of the dispatch table. */
export interface RestCommand {
  /** Limit applied when the app's rateLimits profile is `tencent`. */
  limit: RateLimit;
  /** Code for a body that fails its schema (the command's "invalid parameter" code). */
  invalid: RestErrorEntry;
  /** Code for an unexpected failure (the command's "internal error" code). */
  internal: RestErrorEntry;
  /** Code when the published limit is reached (60007 unless the API documents its own). */
  limited: RestErrorEntry;
  /** Wire codes for domain errors, by DomainError detail or code; unlisted INVALID_ARGUMENT uses `invalid`. */
  errors?: Partial<Record<string, RestErrorEntry>>;
  /** Codes for a body that fails its schema in one top-level field (missing, wrong type), by field name, before `invalid`. */
  fieldErrors?: Partial<Record<string, RestErrorEntry>>;
  check: TypeCheck<TSchema>;
  handle(ctx: RestContext, body: unknown): Promise<Record<string, unknown>>;
}

/** Declares a command with a typed, compiled body schema. */
export function defineCommand<S extends TSchema>(c: {
  limit: RateLimit;
  body: S;
  invalid?: RestErrorEntry;
  internal?: RestErrorEntry;
  limited?: RestErrorEntry;
  errors?: Partial<Record<string, RestErrorEntry>>;
  fieldErrors?: Partial<Record<string, RestErrorEntry>>;
  handle(ctx: RestContext, body: Static<S>): Promise<Record<string, unknown>>;
}): RestCommand {
  return {
    limit: c.limit,
    invalid: c.invalid ?? RestErrors.INVALID_PARAMETER,
    internal: c.internal ?? RestErrors.INTERNAL,
    limited: c.limited ?? RestErrors.API_RATE_LIMIT,
    errors: c.errors,
    fieldErrors: c.fieldErrors,
    check: TypeCompiler.Compile(c.body),
    handle: c.handle as RestCommand['handle'],
  };
}

/** The dispatch table: `"<service>/<command>"` → command. */
export type CommandTable = Record<string, RestCommand>;

/** A body field that holds a UserID: must be a string (60015 otherwise). */
export function Account(opts: { minLength?: number } = {}) {
  return Type.String({ ...opts, 'x-account': true });
}

/** `n` calls every `seconds` seconds. */
export function perSeconds(points: number, seconds: number): RateLimit {
  return { points, seconds };
}

/** `n` calls per second. */
export function perSecond(points: number): RateLimit {
  return { points, seconds: 1 };
}

/** Maps a service's refusal to the command's wire code. */
export function domainToRest(cmd: RestCommand, err: DomainError): RestErrorEntry {
  return entryFor(err, cmd.errors, (code) => (code === 'INVALID_ARGUMENT' ? cmd.invalid : cmd.internal))!;
}
