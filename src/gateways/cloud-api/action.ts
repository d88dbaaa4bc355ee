import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { App } from '../../services/apps/apps-service.ts';
import type { DomainError } from '../../services/errors.ts';
import type { IotService } from '../../services/iot/iot-service.ts';
import type { TrtcRoomsService } from '../../services/trtc-rooms/trtc-rooms-service.ts';
import { CloudErrors, type CloudErrorEntry } from './errors.ts';
import { entryFor } from '../gateway-error.ts';

/** The services a Cloud API action may call. */
export interface CloudServices {
  iot: IotService;
  trtcRooms: TrtcRoomsService;
}

/** What an action knows about the request it serves. */
export interface CloudContext {
  /** The app whose Cloud API SecretId signed the request. */
  app: App;
  /** X-TC-Region (or Region), '' when absent. */
  region: string;
  requestId: string;
  clientIp: string;
  services: CloudServices;
}

/** One `<version>/<action>` entry of the Cloud API dispatch table. */
export interface CloudAction {
  /** Regions the action accepts; absent for any (UnsupportedRegion otherwise). */
  regions?: readonly string[];
  /** Requests per second per app under rateLimits=tencent (RequestLimitExceeded). */
  limit: number;
  /** Codes for domain errors, by DomainError detail or code; unlisted ones map by code (see `domainToCloud`). */
  errors?: Partial<Record<string, CloudErrorEntry>>;
  check: TypeCheck<TSchema>;
  handle(ctx: CloudContext, params: unknown): Promise<Record<string, unknown>>;
}

/** Declares an action with a typed, compiled parameter schema (use `additionalProperties: false`). */
export function defineAction<S extends TSchema>(a: {
  regions?: readonly string[];
  limit: number;
  errors?: Partial<Record<string, CloudErrorEntry>>;
  params: S;
  handle(ctx: CloudContext, params: Static<S>): Promise<Record<string, unknown>>;
}): CloudAction {
  return { regions: a.regions, limit: a.limit, errors: a.errors, check: TypeCompiler.Compile(a.params), handle: a.handle as CloudAction['handle'] };
}

/** The dispatch table: `"<version>/<action>"` → action (e.g. `2019-04-23/CreateTRTCSignaturesWithRoomId`). */
export type ActionTable = Record<string, CloudAction>;

/** Maps a service's refusal to the action's error code. */
export function domainToCloud(action: CloudAction, err: DomainError): CloudErrorEntry {
  return entryFor(err, action.errors, (code) => {
    switch (code) {
      case 'INVALID_ARGUMENT':
        return CloudErrors.INVALID_PARAMETER_VALUE;
      case 'NOT_FOUND':
      case 'FAILED_PRECONDITION':
      case 'ALREADY_EXISTS':
        return CloudErrors.FAILED_OPERATION;
      case 'PERMISSION_DENIED':
        return CloudErrors.UNAUTHORIZED;
      default:
        return CloudErrors.INTERNAL;
    }
  })!;
}
