import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { DomainError } from '../../services/errors.ts';
import { ChatErrors, type ChatErrorEntry } from './errors.ts';
import type { ChatSession } from './session.ts';
import { entryFor, GatewayError } from '../gateway-error.ts';

/** Answers one request of a logged-in session: the reply body's fields (ErrorCode 0 is added), or a ChatError. */
type ChatHandler = (s: ChatSession, body: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** One servcmd of the dispatch table. `raw`: the handler returns the whole reply body (the call engine's own envelope). */
export interface ChatCommand {
  handle: ChatHandler;
  raw?: boolean;
}

/** The dispatch table: servcmd → command. */
export type ChatCommandTable = Record<string, ChatCommand>;

/** A command whose body is checked against a TypeBox schema first (80002 naming the field otherwise). */
export function chatCommand<S extends TSchema>(schema: S, fn: (s: ChatSession, body: Static<S>) => ReturnType<ChatHandler>): ChatCommand {
  const check = TypeCompiler.Compile(schema);
  return {
    handle: (s, body) => {
      if (!check.Check(body)) {
        const e = check.Errors(body).First();
        throw new GatewayError(ChatErrors.INVALID_PARAMETER, e ? `${e.path.slice(1) || 'body'}: ${e.message}` : ChatErrors.INVALID_PARAMETER.message);
      }
      return fn(s, body);
    },
  };
}

/** A command the SDK sends that needs no more than an empty success (features trtcd does not keep, e.g. friends). */
export function answer(fields: Record<string, unknown> = {}): ChatCommand {
  return { handle: () => fields };
}

/** Runs a service call, turning its refusals into ChatErrors by DomainError detail, then code; rethrows others. */
export async function withRefusals<T>(table: Partial<Record<string, ChatErrorEntry>>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DomainError) {
      const entry = entryFor(err, table, (code) => (code === 'INVALID_ARGUMENT' ? ChatErrors.INVALID_PARAMETER : undefined));
      if (entry) throw new GatewayError(entry, err.message);
    }
    throw err;
  }
}
