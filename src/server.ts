import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Config } from './config.ts';
import { InProcessBus, type Bus } from './bus/bus.ts';
import { cloudActions } from './gateways/cloud-api/actions.ts';
import { CloudApiGateway, isCloudApiRequest, SIGNATURE_WINDOW_SECONDS } from './gateways/cloud-api/gateway.ts';
import { RedisNonceLog } from './gateways/cloud-api/nonces.ts';
import { accountCommands } from './gateways/rest-v4/accounts.ts';
import { callbackConfigCommands } from './gateways/rest-v4/callback-config.ts';
import { callCommands } from './gateways/rest-v4/calls.ts';
import { chatCommands } from './gateways/rest-v4/chat.ts';
import { giftCommands } from './gateways/rest-v4/gifts.ts';
import { liveConfigCommands } from './gateways/rest-v4/live-config.ts';
import { liveCommands } from './gateways/rest-v4/live.ts';
import { RestErrors } from './gateways/rest-v4/errors.ts';
import { envelope, RestV4Gateway } from './gateways/rest-v4/gateway.ts';
import { RequestIds } from './http/request-ids.ts';
import { IvhChannels, IVH_WS_PREFIX } from './gateways/ivh/channel.ts';
import { IvhGateway, IVH_HTTP_PREFIX } from './gateways/ivh/gateway.ts';
import { RedisPresence } from './realtime/presence.ts';
import { MediaWorkers } from './realtime/media/media-workers.ts';
import { parsePortRange } from './realtime/media/peer-config.ts';
import { isRtcPath, RtcServer } from './realtime/rtc-server.ts';
import { SdkHttp, isSdkHttpPath } from './gateways/trtc-sdk/http.ts';
import { isSdkWsPath, SdkSignalling } from './gateways/trtc-sdk/signalling.ts';
import { serveWeb } from './gateways/web/static.ts';
import { CONSOLE_PATH, ConsoleGateway, isConsolePath } from './gateways/console/console-gateway.ts';
import { ConsolePreviews } from './gateways/console/previews.ts';
import { RecentLiveEvents } from './gateways/console/recent-live.ts';
import { createChatGateway, isChatWsPath } from './gateways/chat/chat-gateway.ts';
import { BodyReader, DEFAULT_BODY_LIMITS, sendJson } from './http/body.ts';
import { readTlsPair } from './http/tls.ts';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './limits/rate-limiter.ts';
import type { RedisBus } from './bus/redis-bus.ts';
import { RedisCoordination, SINGLE_NODE } from './bus/coordination.ts';
import { createLogger, type Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { checkHealth, trtcdVersion } from './health.ts';
import { AccountsService } from './services/accounts/accounts-service.ts';
import { AppsService, type App } from './services/apps/apps-service.ts';
import { CallsService } from './services/calls/calls-service.ts';
import { GiftsService } from './services/gifts/gifts-service.ts';
import { GroupsService } from './services/chat/groups-service.ts';
import { MessagesService } from './services/chat/messages-service.ts';
import { DigitalHumanService, IDLE_CLOSE_MS } from './services/digital-human/digital-human-service.ts';
import { IotService } from './services/iot/iot-service.ts';
import { LiveService } from './services/live/live-service.ts';
import { TrtcRoomsService } from './services/trtc-rooms/trtc-rooms-service.ts';
import { openStore, type Store } from './store/store.ts';
import { CallbackDispatcher, DEFAULT_DISPATCHER_OPTIONS } from './webhooks/dispatcher.ts';
import { ActivityLog } from './activity-log.ts';
import { Lifecycles } from './lifecycle.ts';

/** A running trtcd server. */
export interface Trtcd {
  /** Base URL, e.g. http://127.0.0.1:9000 (https:// with tlsCert and tlsKey). */
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  readonly apps: AppsService;
  readonly accounts: AccountsService;
  readonly calls: CallsService;
  readonly live: LiveService;
  readonly trtcRooms: TrtcRoomsService;
  readonly iot: IotService;
  readonly digitalHuman: DigitalHumanService;
  readonly gifts: GiftsService;
  /** Chat C2C messages. */
  readonly messages: MessagesService;
  /** Chat groups and their messages. */
  readonly groups: GroupsService;
  readonly callbacks: CallbackDispatcher;
  /** The /rtc client protocol server. */
  readonly rtc: RtcServer;
  readonly bus: Bus;
  readonly log: Logger;
  /** The development app created at start on an empty store, if any. */
  readonly devApp: App | null;
  /** Stops accepting connections, finishes in-flight requests, closes the store. */
  close(): Promise<void>;
}

/** Opens the store, loads the apps and serves every API family on one HTTP port (HTTPS with tlsCert and tlsKey). */
export async function startServer(
  config: Config,
  log: Logger = createLogger(config.logLevel, config.logFormat),
  hooks: {
    /** Called with the development app once it is made (see devGifts). */
    onDevApp?: (app: App, gifts: number) => void;
    /** The development app starts with the default gift catalogue (copy_default_gift_config), as `trtcd start` does. */
    devGifts?: boolean;
  } = {},
): Promise<Trtcd> {
  // Read first: a certificate that cannot be used fails the start before anything is opened.
  const tls = readTlsPair(config);
  // Several nodes: Redis carries the bus, the locks of read-modify-write changes and the rate limits. An unreachable
  // Redis fails the start (naming it) before anything is written.
  const redisBus: RedisBus | null = config.redis ? await (await import('./bus/redis-bus.ts')).RedisBus.connect(config.redis, log, config.redisTimeoutMs) : null;
  let store: Store;
  try {
    store = await openStore(config, log);
  } catch (err) {
    await redisBus?.close();
    throw err;
  }
  // The long-lived parts, started in order (each after those it uses) and stopped in reverse by close().
  const parts = new Lifecycles();
  const bus: Bus = redisBus ?? new InProcessBus();
  const coordination = redisBus ? new RedisCoordination(redisBus.redis, config.redisTimeoutMs) : SINGLE_NODE;
  const limiter = (): RateLimiter => (redisBus ? new RedisRateLimiter(redisBus.redis) : new MemoryRateLimiter());
  const apps = new AppsService(store, config.appsPollMs);
  const accounts = new AccountsService(store, apps, bus);
  const callbacks = new CallbackDispatcher(
    store,
    apps,
    log,
    { ...DEFAULT_DISPATCHER_OPTIONS, retryBaseMs: config.callbackRetryBaseMs, retryMaxMs: config.callbackRetryMaxMs, maxAgeMs: config.callbackMaxAgeMs },
    coordination,
  );
  const calls = new CallsService(store, apps, accounts, bus, () => callbacks.kick(), coordination);
  const live = new LiveService(store, accounts, bus, coordination, { apps, onQueued: () => callbacks.kick() });
  const gifts = new GiftsService(store, apps, accounts, live, { bus });
  const trtcRooms = new TrtcRoomsService(store, bus);
  const iot = new IotService(store, trtcRooms);
  const digitalHuman = new DigitalHumanService(store, apps, trtcRooms, bus, { prepareDelayMs: config.ivhPrepareDelayMs, idleCloseMs: IDLE_CLOSE_MS });
  const messages = new MessagesService(store, accounts, bus);
  const groups = new GroupsService(store, accounts, bus);
  const recentLive = new RecentLiveEvents(bus);
  let devApp: App | null;
  try {
    await parts.start(apps);
    devApp = config.devApp && apps.list().length === 0 ? await apps.create() : null;
    for (const part of [accounts, calls, live, gifts, trtcRooms, digitalHuman, groups, recentLive]) await parts.start(part);
    const devGifts = devApp && hooks.devGifts ? (await gifts.copyDefault(devApp.sdkAppId)).gifts : 0;
    if (devApp) hooks.onDevApp?.(devApp, devGifts);
    // Last: what the services queued while starting (and what a previous run left) is delivered from here on.
    await parts.start(callbacks);
  } catch (err) {
    await parts.stop();
    await redisBus?.close();
    await store.close();
    throw err;
  }
  const metrics = new Metrics();
  const bodies = new BodyReader({ ...DEFAULT_BODY_LIMITS, unauthenticatedBytes: config.unauthenticatedBodyBytes, timeoutMs: config.bodyTimeoutMs });
  metrics.gauge('trtcd_unauthenticated_body_bytes', 'bytes of request bodies held before their request is authenticated', () => bodies.held);
  // REST v4 RequestIds, also for the 400 of a request that could not be parsed.
  const restIds = new RequestIds();
  const rest = new RestV4Gateway({
    ids: restIds,
    apps,
    services: { accounts, calls, live, gifts, messages, groups, apps },
    commands: { ...accountCommands, ...callCommands, ...liveCommands, ...giftCommands, ...liveConfigCommands, ...callbackConfigCommands, ...chatCommands },
    limiter: limiter(),
    log,
    metrics,
    bodyLimit: config.bodyLimit,
    bodies,
  });
  const nonces = redisBus ? new RedisNonceLog(redisBus.redis, SIGNATURE_WINDOW_SECONDS) : undefined;
  const cloud = new CloudApiGateway({ apps, services: { iot, trtcRooms }, actions: cloudActions, limiter: limiter(), log, metrics, bodies, nonces });
  const ivhIds = new RequestIds();
  const ivh = new IvhGateway({ apps, service: digitalHuman, log, metrics, bodyLimit: config.bodyLimit, bodies, ids: ivhIds });
  const ivhChannels = new IvhChannels({ apps, service: digitalHuman, bus, log, metrics, maxFrame: config.bodyLimit, ids: ivhIds });
  const presence = redisBus ? new RedisPresence(redisBus.redis) : undefined;
  parsePortRange(config.mediaPortRange); // a bad range fails the start, not the first publish
  // SRTP and UDP sends of the SFU's packets, on worker threads (started with the first subscriber).
  const mediaWorkers = new MediaWorkers(config.mediaWorkers, log);
  const media = { portRange: config.mediaPortRange, workers: mediaWorkers };
  metrics.gauge('trtcd_media_worker_sent_packets', 'RTP packets the media workers sent since start', () => mediaWorkers.counts().sent);
  metrics.gauge('trtcd_media_worker_ingresses', 'Publisher uplinks (/rtc and trtc-sdk-v5) the media workers read now', () => mediaWorkers.ingresses());
  metrics.gauge('trtcd_media_worker_ingress_packets', 'Publisher RTP packets the media workers read and forwarded without the main thread since start', () => mediaWorkers.ingressFanned());
  metrics.gauge('trtcd_media_worker_dropped_packets', 'RTP packets the media workers dropped (socket buffer full or closed) since start', () => mediaWorkers.counts().dropped);
  const rtc = new RtcServer({ apps, accounts, trtcRooms, calls, live, gifts, bus, log, metrics, presence, media });
  // Tencent's Web SDK (trtc-sdk-v5): its signalling, schedule and log uploads, onto the same rooms and SFU as /rtc.
  const sdk = new SdkSignalling({ apps, trtcRooms, media: rtc.media, bus, log, metrics, net: media });
  const sdkHttp = new SdkHttp({ bodies, log, metrics });
  // Tencent's Chat SDK and TUICallKit's call engine over it (proxyServer): messages, groups, calls.
  const chat = createChatGateway({ apps, accounts, calls, messages, groups, bus, log, metrics });
  const activity = new ActivityLog(bus, rtc.media.sfu, log);
  // The developer console: its token is logged with its address below (a new one each start unless configured).
  const consoleToken = config.consoleToken === 'off' ? '' : config.consoleToken || randomBytes(18).toString('base64url');
  const consolePreviews = new ConsolePreviews(rtc.media.sfu, media);
  const consoleGateway = new ConsoleGateway({
    token: consoleToken,
    apps,
    live,
    trtcRooms,
    sfu: rtc.media.sfu,
    calls,
    digitalHuman,
    recent: recentLive,
    previews: consolePreviews,
    callbacks,
    bodies,
    limiter: limiter(),
    log,
    secure: tls !== null,
  });
  // The parts that face clients, started after the services they use. close() stops them, last first, while the HTTP
  // server drains (upgraded sockets would keep it waiting); the media workers stop after every socket sending through them.
  const front = new Lifecycles();
  for (const part of [mediaWorkers, ivhChannels, rtc, sdk, chat, activity, consolePreviews]) await front.start(part);
  metrics.gauge('trtcd_sdk_connections', 'open trtc-sdk-v5 signalling WebSocket connections', () => sdk.size);
  metrics.gauge('trtcd_sdk_twcc_loss_windows', 'loss windows read from trtc-sdk-v5 subscribers\' transport-wide congestion feedback since start', () => sdk.congestion.twccWindows);
  metrics.gauge('trtcd_sdk_layer_narrowed', 'times a trtc-sdk-v5 subscriber that asked for the big stream was sent the small one for congestion, since start', () => sdk.congestion.narrowed);
  metrics.gauge('trtcd_rtc_connections', 'open /rtc WebSocket connections', () => rtc.size);
  metrics.gauge('trtcd_media_publications', 'streams published to this node\'s SFU', () => rtc.media.sfu.stats().publications);
  metrics.gauge('trtcd_media_subscriptions', 'subscriptions forwarded by this node\'s SFU', () => rtc.media.sfu.stats().subscriptions);
  metrics.gauge('trtcd_media_fanout_members', 'subscribers\' senders whose copies a media worker writes (one per kind)', () => rtc.media.sfu.stats().fanOutMembers);

  // Read once: /healthz answers with it.
  const version = trtcdVersion();

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (url === '/healthz') {
      void checkHealth({ storeKind: store.dialect, store: () => store.ping(), redis: redisBus ? () => redisBus.ping() : undefined, timeoutMs: config.redisTimeoutMs, version }).then((h) =>
        sendJson(res, h.httpStatus, JSON.stringify(h.body)),
      );
      return;
    }
    if (url === '/metrics' && req.method === 'GET') {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    if (isSdkHttpPath(url)) return sdkHttp.handle(req, res);
    // Tencent Cloud API 3.0: `/` with X-TC-Action, a TC3 Authorization header, or v1 `Action=` / form parameters.
    if (isCloudApiRequest(req)) return cloud.handle(req, res);
    // AI Digital Human (IVH): /v2/ivh/<service path>?appkey&timestamp&signature.
    if (url.startsWith(IVH_HTTP_PREFIX)) return ivh.handle(req, res);
    if (isConsolePath(url)) return consoleGateway.handle(req, res);
    // The browser SDK bundle (/sdk/trtcd.js) and the demo page (/demo/).
    if (serveWeb(req, res)) return;
    // Every other path is answered by the REST v4 gateway, which rejects what is not /v4/<service>/<command>.
    rest.handle(req, res);
  };

  const timeouts = { keepAliveTimeout: 65_000, headersTimeout: 10_000, requestTimeout: 30_000 };
  // With TLS the same handlers serve https and wss; a handshake gets the time the request headers get.
  const server: Server = tls ? createHttpsServer({ ...timeouts, ...tls, handshakeTimeout: timeouts.headersTimeout }, route) : createServer(timeouts, route);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A TLS handshake that failed or timed out (https passes it on as a clientError) has no HTTP to answer: an answer
    // written before the handshake would wait for it forever.
    if (!socket.writable || err.code === 'ECONNRESET' || /^ERR_(SSL|TLS)_/.test(err.code ?? '')) return socket.destroy();
    const body = envelope(restIds.rest(), RestErrors.HTTP_PARSE.code, RestErrors.HTTP_PARSE.message);
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  // WebSocket upgrades: the IVH command channel and the /rtc client protocol; any other path is refused with 404.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if ((req.url ?? '/').startsWith(IVH_WS_PREFIX)) return ivhChannels.upgrade(req, socket, head);
    if (isRtcPath(req.url ?? '/')) return rtc.upgrade(req, socket, head);
    if (isSdkWsPath(req.url ?? '/')) return sdk.upgrade(req, socket, head);
    if (isChatWsPath(req.url ?? '/')) return chat.upgrade(req, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    // Not listening (the port is taken, say): what was started is stopped, so that the process can end.
    await front.stop();
    await parts.stop();
    await redisBus?.close();
    await store.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  const consoleUrl = `${url}${CONSOLE_PATH}${consoleToken ? `?token=${consoleToken}` : ''}`;
  log.info({ host: config.host, port, url, demo: `${url}/demo/`, console: consoleUrl, store: store.dialect, dataDir: resolvePath(config.dataDir) }, 'trtcd listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    store,
    apps,
    accounts,
    calls,
    live,
    gifts,
    messages,
    groups,
    trtcRooms,
    iot,
    digitalHuman,
    callbacks,
    rtc,
    bus,
    log,
    devApp,
    close() {
      closing ??= (async () => {
        // Upgraded sockets keep server.close() waiting: close the command channels with it.
        const channelsClosed = front.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive sockets go idle once their in-flight response is sent; close them then, and force after a grace period.
          const sweep = setInterval(() => server.closeIdleConnections(), 50);
          const force = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
          server.once('close', () => (clearInterval(sweep), clearTimeout(force)));
          server.closeIdleConnections();
        });
        await channelsClosed;
        await parts.stop();
        await redisBus?.close();
        await store.close();
        log.info('trtcd stopped');
      })();
      return closing;
    },
  };
}
