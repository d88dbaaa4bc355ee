// The Chat SDK's WebSocket (@tencentcloud/chat with `proxyServer`; docs/chat-and-calls.md): login by UserSig or
// session ticket, the commands the SDK sends at login and while idle, C2C and group messages, and TUICallKit's
// call engine (call_engine_srv.*), all onto trtcd's services. Pushes follow the bus, so any node serves any user.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { VerifyResult } from '../../auth/usersig.ts';
import type { Bus } from '../../bus/bus.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import { listen } from '../../realtime/feature.ts';
import { FrameBudget } from '../../realtime/frame-budget.ts';
import { userIdProblem, type AccountsService } from '../../services/accounts/accounts-service.ts';
import type { AppsService } from '../../services/apps/apps-service.ts';
import { DomainError } from '../../services/errors.ts';
import { tinyIdOf } from '../trtc-sdk/protocol.ts';
import { issueA2Key, readA2Key } from './a2key.ts';
import { CALL_TOPIC, type CallChanged, type CallsService } from '../../services/calls/calls-service.ts';
import { GROUP_TOPIC, type GroupChanged, type GroupsService } from '../../services/chat/groups-service.ts';
import { CHAT_TOPIC, type ChatEvent } from '../../services/chat/message.ts';
import type { MessagesService } from '../../services/chat/messages-service.ts';
import { ChatCallEngine } from './call-engine.ts';
import type { ChatCommandTable } from './command.ts';
import { groupCommands } from './group-commands.ts';
import { pushGroupChange } from './group-pushes.ts';
import { imCommands } from './im-commands.ts';
import { pushMessage } from './im-pushes.ts';
import { ChatErrors, type ChatErrorEntry } from './errors.ts';
import { CHAT_MAX_FRAME_BYTES, failBody, okBody, parseRequest, type ChatRequest } from './frames.ts';
import { ChatSession } from './session.ts';
import { userKey, type UserKey } from '../../services/tenant-keys.ts';
import { GatewayError } from '../gateway-error.ts';
import { serveMessage, type MessageFamily } from '../message-pipeline.ts';

/** What the Chat gateway needs from the rest of trtcd. */
interface ChatGatewayDeps {
  apps: Pick<AppsService, 'get' | 'verifyUserSig' | 'admit'>;
  accounts: Pick<AccountsService, 'exists' | 'importOne'>;
  /** Every servcmd a logged-in session may send, but wslogin/wslogout and heartbeat.alive. */
  commands: ChatCommandTable;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
}

/** Bus topic of Chat logins: every node kicks the instances a new login replaces. */
const CHAT_LOGIN_TOPIC = 'chat.login';
interface ChatLogin {
  sdkAppId: number;
  userId: string;
  instId: number;
  /** How many instances of the user may stay online (the app's chat.webInstances). */
  keep: number;
}

/** The session commands the gateway answers itself. */
const LOGIN = 'im_open_status.wslogin';
const LOGOUT = 'im_open_status.wslogout';
const HELLO = 'im_open_status.wshello';

/** `wshello` period the login reply asks for, s (the SDK's own default). */
const HELLO_INTERVAL_S = 120;
/** A socket that has not logged in within this long is closed, ms. */
const LOGIN_TIMEOUT_MS = 30_000;
/** Frames one socket may send per second (the SDK sends a handful; more is a fault or an attack). */
const MAX_FRAMES_PER_SECOND = 100;
const SHUTDOWN_GRACE_MS = 1000;
/** KickType of stat_forceoffline: 1 another login of the same account (the SDK's KICKED_OUT multipleAccount). */
const KICK_MULTIPLE_ACCOUNT = 1;
/** How long a kicked instance's socket stays open for the SDK's own logout, ms. */
const KICK_CLOSE_MS = 2000;

const SIG_ERRORS: Record<Exclude<VerifyResult, { ok: true }>['reason'], ChatErrorEntry> = {
  EMPTY: ChatErrors.SIG_EMPTY,
  MALFORMED: ChatErrors.SIG_INVALID,
  V1_UNSUPPORTED: ChatErrors.SIG_INVALID,
  FIELD_MISSING: ChatErrors.SIG_INVALID,
  IDENTIFIER_MISMATCH: ChatErrors.SIG_IDENTIFIER_MISMATCH,
  SDKAPPID_MISMATCH: ChatErrors.SIG_SDKAPPID_MISMATCH,
  EXPIRED: ChatErrors.SIG_EXPIRED,
  SIG_MISMATCH: ChatErrors.SIG_KEY_MISMATCH,
  USERBUF_MISMATCH: ChatErrors.SIG_INVALID,
};

/**
 * Whether an upgrade is for the Chat SDK: `proxyServer` is any base URL the app chooses, to which the SDK appends
 * `/binfo?` (binary frames, every browser) or `/info?` and its query, which always names the sdkappid and instanceid.
 */
export function isChatWsPath(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return false;
  const path = url.slice(0, q);
  if (!(path.endsWith('/binfo') || path.endsWith('/info'))) return false;
  const params = new URLSearchParams(url.slice(q + 1));
  return params.has('sdkappid') && params.has('instanceid');
}

/** The Chat SDK gateway on this node. */
class ChatGateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<ChatSession>();
  /** Logged-in sessions: `${sdkAppId}\n${userId}` → sessions, oldest first. */
  private readonly byUser = new Map<UserKey, ChatSession[]>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly pending = new Set<Promise<unknown>>();
  private readonly stops: Array<() => void> = [];
  /** What start() subscribes to, and what else it starts. */
  private readonly follows: Array<{ topic: string; what: string; handler: (payload: unknown) => void }> = [];
  private readonly starts: Array<() => void> = [];
  private started = false;
  private pushSeq = 0;
  // Instance ids: unique per node for its life (the SDK sends its own back in status_instid).
  private instSeq = 1000 + Math.floor(Math.random() * 1_000_000) * 1000;
  private readonly family: MessageFamily = {
    name: 'chat',
    labelKey: 'servcmd',
    internal: ChatErrors.INTERNAL,
    knows: (servcmd) => servcmd === LOGIN || servcmd === LOGOUT || servcmd === HELLO || Object.hasOwn(this.d.commands, servcmd),
  };

  constructor(private readonly d: ChatGatewayDeps) {
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: CHAT_MAX_FRAME_BYTES });
    this.follow(CHAT_LOGIN_TOPIC, 'chat login', (p) => this.onLogin(p as ChatLogin));
    d.metrics.gauge('trtcd_chat_connections', 'open Chat SDK WebSocket connections', () => this.sessions.size);
  }

  /** Open Chat sockets. */
  get size(): number {
    return this.sessions.size;
  }

  /** Subscribes `handler` to a bus topic from start() to close() (the logins, message and call pushes). */
  follow(topic: string, what: string, handler: (payload: unknown) => void): void {
    this.follows.push({ topic, what, handler });
  }

  /** Runs `fn` at start() (the call engine's timers). */
  onStart(fn: () => void): void {
    this.starts.push(fn);
  }

  /** Subscribes what follow() named and starts what onStart() named; safe to repeat. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const f of this.follows) this.unsubscribe.push(listen(this.d.bus, f.topic, this.d.log, f.what, f.handler));
    for (const fn of this.starts) fn();
  }

  /** The logged-in sessions of a user on this node. */
  sessionsOf(sdkAppId: number, userId: string): readonly ChatSession[] {
    return this.byUser.get(userKey(sdkAppId, userId)) ?? [];
  }

  /** Pushes `body` as `servcmd` to every instance of a user on this node; how many got it. */
  pushTo(sdkAppId: number, userId: string, servcmd: string, body: unknown): number {
    const list = this.sessionsOf(sdkAppId, userId);
    for (const s of list) s.push(servcmd, body);
    return list.length;
  }

  /** Keeps a background task until it settles, so close() can wait for it. */
  track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.catch((err: unknown) => this.d.log.error({ err }, 'chat task failed')).finally(() => this.pending.delete(p));
  }

  /** Handles an HTTP upgrade whose path isChatWsPath. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '';
    const q = new URLSearchParams(url.slice(url.indexOf('?') + 1));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.opened(ws, q, req.socket.remoteAddress));
  }

  private opened(ws: WebSocket, q: URLSearchParams, ip: string | undefined): void {
    const sdkAppId = Number(q.get('sdkappid'));
    const s = new ChatSession(ws, Number.isSafeInteger(sdkAppId) && sdkAppId > 0 ? sdkAppId : 0, q.get('compress') === 'gzip', ip, () => ++this.pushSeq);
    this.sessions.add(s);
    ws.on('error', () => ws.terminate());
    const loginTimer = setTimeout(() => {
      if (!s.loggedIn) ws.close(1000, 'no login');
    }, LOGIN_TIMEOUT_MS);
    loginTimer.unref?.();
    const budget = new FrameBudget(MAX_FRAMES_PER_SECOND);
    let queue = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      if (budget.spend()) return ws.close(4429, 'too many frames');
      const req = parseRequest(isBinary ? (data as Buffer) : Buffer.from(data as Buffer));
      if (!req) return this.d.log.debug({ userId: s.userId }, 'chat frame ignored: not a request');
      // Heartbeats are answered at once (the SDK gives them 3 s); the rest in order, as the SDK sent them.
      if (req.head.servcmd === 'heartbeat.alive') return s.reply(req.head.servcmd, req.head.seq, okBody());
      queue = queue.then(() => this.handle(s, req));
      this.track(queue);
    });
    ws.on('close', () => {
      clearTimeout(loginTimer);
      this.sessions.delete(s);
      this.detach(s);
    });
  }

  private handle(s: ChatSession, req: ChatRequest): Promise<void> {
    const { servcmd, seq } = req.head;
    /** What must follow the reply (a logout forgets the session only once it has been answered). */
    let after: (() => void) | undefined;
    const run = async (): Promise<unknown> => {
      if (servcmd === LOGIN) return okBody(await this.login(s, req));
      if (!s.loggedIn) throw new GatewayError(ChatErrors.TICKET_INVALID, 'log in first');
      // Every later request names the session's ticket; another one is a confused or forged client.
      if (req.head.a2 !== undefined && req.head.a2 !== s.a2) throw new GatewayError(ChatErrors.TICKET_INVALID);
      if (servcmd === LOGOUT) {
        after = () => {
          this.detach(s);
          s.instId = 0;
        };
        return okBody();
      }
      if (servcmd === HELLO) {
        if (s.expiresAt < Date.now() / 1000) throw new GatewayError(ChatErrors.SIG_EXPIRED);
        return okBody();
      }
      const cmd = Object.hasOwn(this.d.commands, servcmd) ? this.d.commands[servcmd] : undefined;
      if (!cmd) throw new GatewayError(ChatErrors.UNKNOWN_COMMAND, `${servcmd} is not supported`);
      const out = await cmd.handle(s, req.body);
      return cmd.raw ? out : okBody(out);
    };
    return serveMessage(this.family, this.d, servcmd, { userId: s.userId }, run, {
      ok: (body) => {
        s.reply(servcmd, seq, body);
        after?.();
      },
      refused: (err) => s.reply(servcmd, seq, failBody(Number(err.entry.code), err.message)),
    });
  }

  /** im_open_status.wslogin: by UserSig (identifier + usersig in the head) or, after a reconnect, by the session ticket. */
  private async login(s: ChatSession, req: ChatRequest): Promise<Record<string, unknown>> {
    const app = this.d.apps.get(s.sdkAppId);
    if (!app) throw new GatewayError(ChatErrors.SIG_SDKAPPID_MISMATCH, `unknown SDKAppID ${s.sdkAppId}`);
    if (this.d.apps.admit(app, undefined) !== null) throw new GatewayError(ChatErrors.APP_DISABLED);
    const { identifier, usersig, a2 } = req.head;
    let userId: string;
    let expiresAt: number;
    if (typeof identifier === 'string' || typeof usersig === 'string') {
      if (typeof identifier !== 'string' || identifier === '') throw new GatewayError(ChatErrors.LOGIN_INVALID, 'identifier is missing');
      const v = this.d.apps.verifyUserSig(app.sdkAppId, identifier, typeof usersig === 'string' ? usersig : '');
      if (!v.ok) throw new GatewayError(SIG_ERRORS[v.reason], `${SIG_ERRORS[v.reason].message} (${v.message})`);
      userId = identifier;
      expiresAt = v.expiresAt;
    } else if (typeof a2 === 'string' && a2 !== '') {
      const t = readA2Key(app.secretKey, app.sdkAppId, a2);
      if (!t) throw new GatewayError(ChatErrors.TICKET_INVALID);
      if (t.expiresAt < Date.now() / 1000) throw new GatewayError(ChatErrors.SIG_EXPIRED);
      ({ userId, expiresAt } = t);
    } else {
      throw new GatewayError(ChatErrors.LOGIN_INVALID, 'the login names neither a UserSig nor a session ticket');
    }
    const problem = userIdProblem(userId);
    if (problem) throw new GatewayError(ChatErrors.LOGIN_INVALID, problem);
    // A Chat login registers the account, as account_import would.
    if (!(await this.d.accounts.exists(app.sdkAppId, userId))) {
      try {
        await this.d.accounts.importOne(app.sdkAppId, { userId });
      } catch (err) {
        if (err instanceof DomainError && err.detail === 'ACCOUNT_LIMIT') throw new GatewayError(ChatErrors.ACCOUNT_LIMIT);
        throw err;
      }
    }
    if (s.loggedIn) this.detach(s);
    s.userId = userId;
    s.tinyId = tinyIdOf(app.sdkAppId, userId);
    s.instId = (this.instSeq += 1);
    s.expiresAt = expiresAt;
    s.loggedInAt = Date.now();
    s.purchaseBits = app.settings.chat.purchaseBits;
    s.a2 = issueA2Key(app.secretKey, app.sdkAppId, { userId, expiresAt });
    const key = userKey(app.sdkAppId, userId);
    const list = this.byUser.get(key) ?? [];
    list.push(s);
    this.byUser.set(key, list);
    this.d.bus.publish(CHAT_LOGIN_TOPIC, { sdkAppId: app.sdkAppId, userId, instId: s.instId, keep: app.settings.chat.webInstances } satisfies ChatLogin);
    this.d.log.info({ sdkAppId: app.sdkAppId, userId, instId: s.instId }, 'chat login');
    return {
      A2Key: s.a2,
      TinyId: s.tinyId,
      InstId: s.instId,
      HelloInterval: HELLO_INTERVAL_S,
      TimeStamp: Math.floor(Date.now() / 1000),
      CustomStatus: '',
      // The call engine reads the package bits once, from this reply (docs/chat-and-calls.md "Packages").
      PurchaseBits: s.purchaseBits,
    };
  }

  /** A new login anywhere: the user's instances beyond the app's limit (oldest first) are kicked out. */
  private onLogin(e: ChatLogin): void {
    const list = this.byUser.get(userKey(e.sdkAppId, e.userId));
    if (!list) return;
    const others = list.filter((s) => s.instId !== e.instId);
    const excess = others.length + 1 - Math.max(1, e.keep);
    for (const s of others.slice(0, Math.max(0, excess))) {
      s.push('im_open_status.stat_forceoffline', { EventArray: [{ C2cNotifyMsgArray: [{ KickoutMsgNotify: { KickType: KICK_MULTIPLE_ACCOUNT, NewInstInfo: {} } }] }] });
      this.detach(s);
      s.instId = 0;
      // The SDK logs itself out on the push (wslogout, then it closes); a socket still open after that is closed here.
      setTimeout(() => s.ws.close(1000, 'kicked'), KICK_CLOSE_MS).unref?.();
    }
  }

  private detach(s: ChatSession): void {
    if (!s.userId) return;
    const key = userKey(s.sdkAppId, s.userId);
    const list = this.byUser.get(key)?.filter((x) => x !== s);
    if (list?.length) this.byUser.set(key, list);
    else this.byUser.delete(key);
  }

  /** Runs `fn` when the gateway closes (a part's timers). */
  onClose(fn: () => void): void {
    this.stops.push(fn);
  }

  /** Closes every socket and stops following the bus; safe to repeat. */
  async stop(): Promise<void> {
    this.started = false;
    this.stops.splice(0).forEach((f) => f());
    this.unsubscribe.forEach((u) => u());
    this.unsubscribe.length = 0;
    const closed = [...this.sessions].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.ws.readyState === s.ws.CLOSED) return resolve();
          s.ws.once('close', () => resolve());
          s.ws.close(1001, 'server shutting down');
          setTimeout(() => (s.ws.terminate(), resolve()), SHUTDOWN_GRACE_MS).unref?.();
        }),
    );
    await Promise.all(closed);
    await Promise.allSettled([...this.pending]);
  }
}

/** The services the Chat protocol serves. */
export interface ChatServices {
  apps: ChatGatewayDeps['apps'];
  accounts: ChatGatewayDeps['accounts'];
  calls: ConstructorParameters<typeof ChatCallEngine>[0]['calls'] & Pick<CallsService, 'get'>;
  messages: Pick<MessagesService, 'sendC2C' | 'sync' | 'delivered' | 'conversations' | 'history' | 'markRead' | 'peerReadTimes'>;
  groups: Pick<GroupsService, 'create' | 'get' | 'joined' | 'sendMessage' | 'addMembers' | 'join' | 'removeMembers' | 'quit' | 'update' | 'destroy'>;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
}

/** The Chat gateway with its commands (the SDK's own and the call engine's) and the pushes that follow the bus. */
export function createChatGateway(d: ChatServices): ChatGateway {
  const commands: ChatCommandTable = {};
  const gateway = new ChatGateway({ apps: d.apps, accounts: d.accounts, commands, bus: d.bus, log: d.log, metrics: d.metrics });
  const engine = new ChatCallEngine({ calls: d.calls, pushTo: (a, u, c, b) => gateway.pushTo(a, u, c, b), track: (p) => gateway.track(p), log: d.log });
  Object.assign(commands, imCommands({ messages: d.messages, groups: d.groups }), groupCommands({ groups: d.groups }), engine.commands);
  const pushes = { messages: d.messages, groups: d.groups, pushTo: gateway.pushTo.bind(gateway), track: gateway.track.bind(gateway) };
  gateway.follow(CHAT_TOPIC, 'chat message push', (p) => pushMessage(pushes, p as ChatEvent));
  gateway.follow(GROUP_TOPIC, 'chat group tips push', (p) => pushGroupChange(pushes, p as GroupChanged));
  gateway.follow(CALL_TOPIC, 'chat call push', (p) => engine.onCallChanged(p as CallChanged));
  gateway.onStart(() => engine.start());
  gateway.onClose(() => engine.stop());
  return gateway;
}
