import type { Insertable } from 'kysely';
import type { GiftRecordsTable } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import { callbackTarget } from '../../webhooks/callback-config.ts';
import { beforeSendGiftBody, callBeforeSendGift, BEFORE_SEND_GIFT, BEFORE_SEND_GIFT_TIMEOUT_MS } from '../../webhooks/live-callbacks.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import type { AppsService } from '../apps/apps-service.ts';
import { DomainError } from '../errors.ts';
import type { LiveService } from '../live/live-service.ts';
import { GiftErrors, GiftRefusedByApp, PASS_THROUGH_MAX, PASS_THROUGH_MIN, MAX_GIFT_COUNT, MAX_RECEIVERS, invalid, requireGiftFeature, type Gift, type GiftCount, type GiftMeta, type SendGiftRequest, type SentGift } from './gift.ts';

type GiftRecordRow = Omit<Insertable<GiftRecordsTable>, 'id'>;

/**
 * Sending gifts: send_gift, which checks the gift, asks the app server (Live.CallbackBeforeSendGift), records the
 * gift durably (group commit), then publishes it on the bus; and get_gift_count over the recorded gifts.
 */
export class GiftSender {
  /** Accepted gifts waiting for the next group commit. */
  private pending: Array<{ row: GiftRecordRow; done: (err?: unknown) => void }> = [];
  /** How long the before-send-gift callback may take. */
  callbackTimeoutMs: number;

  constructor(
    private readonly store: Store,
    private readonly appsService: AppsService,
    private readonly accounts: AccountsService,
    private readonly live: LiveService,
    /** A gift of the catalogue, or NOT_FOUND (102002). */
    private readonly gift: (sdkAppId: number, giftId: string) => Gift,
    opts: { callbackTimeoutMs?: number } = {},
  ) {
    this.callbackTimeoutMs = opts.callbackTimeoutMs ?? BEFORE_SEND_GIFT_TIMEOUT_MS;
  }

  /**
   * Sends a gift in a room. Checks, in order: the app's gift feature (102001), the room (100002 for a bad RoomId,
   * 100004 when unknown), the gift (102002), the room's gift switch (102008), the request's shape (Count 1–9999,
   * 1–100 receivers, no empty UserID: 100002), that the sender and receivers are imported accounts (100002); then
   * asks the app server through Live.CallbackBeforeSendGift when the app wants that command (102004 when it
   * refuses, fails or times out; an ErrorCode in [102100, 102200] is passed through); then records the gift durably and only then publishes it and answers.
   */
  async sendGift(req: SendGiftRequest, meta: GiftMeta = {}): Promise<SentGift> {
    const app = requireGiftFeature(this.appsService, req.sdkAppId);
    this.live.get(req.sdkAppId, req.roomId);
    const gift = this.gift(req.sdkAppId, req.giftId);
    this.requireRoomSwitch(req.sdkAppId, req.roomId);
    const count = req.count ?? 1;
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_GIFT_COUNT) invalid(`Count must be an integer from 1 to ${MAX_GIFT_COUNT}, got ${count}`);
    if (req.from === '') invalid('From_Account is empty');
    if (req.receivers.length === 0) invalid('ReceiverList_Account is empty');
    if (req.receivers.length > MAX_RECEIVERS) invalid(`ReceiverList_Account holds at most ${MAX_RECEIVERS} accounts, got ${req.receivers.length}`);
    if (req.receivers.includes('')) invalid('ReceiverList_Account contains an empty UserID');
    const receivers = [...new Set(req.receivers)];
    const have = await this.accounts.existing(req.sdkAppId, [req.from, ...receivers]);
    if (!have.has(req.from)) throw new DomainError('INVALID_ARGUMENT', `From_Account ${req.from} is not an imported account`, 'UNKNOWN_ACCOUNT');
    const missing = receivers.filter((r) => !have.has(r));
    if (missing.length) throw new DomainError('INVALID_ARGUMENT', `ReceiverList_Account has accounts that are not imported: ${missing.join(', ')}`, 'UNKNOWN_ACCOUNT');

    const time = Date.now();
    if (callbackTarget(app.settings, BEFORE_SEND_GIFT)) {
      const verdict = await callBeforeSendGift(
        app.settings,
        beforeSendGiftBody(req.from, req.roomId, { From_Account: req.from, To_Account: receivers, Time: Math.floor(time / 1000), GiftId: gift.giftId, Count: count, Coins: gift.coins }),
        { sdkAppId: req.sdkAppId, clientIp: meta.clientIp ?? '', platform: meta.platform ?? 'RESTAPI' },
        this.callbackTimeoutMs,
      );
      if (!verdict.allowed) {
        const why = `Live.CallbackBeforeSendGift blocked the gift: ${verdict.reason}`;
        const code = verdict.errorCode;
        if (code !== undefined && code >= PASS_THROUGH_MIN && code <= PASS_THROUGH_MAX) throw new GiftRefusedByApp(why, code, verdict.errorInfo ?? '');
        throw new DomainError('FAILED_PRECONDITION', why, GiftErrors.CALLBACK_FAILED);
      }
      // The room may have been dissolved while the app server was deciding.
      this.live.get(req.sdkAppId, req.roomId);
    }

    const sent: SentGift = { sdkAppId: req.sdkAppId, roomId: req.roomId, giftId: gift.giftId, from: req.from, receivers, count, coins: gift.coins, time };
    await this.record({
      sdk_app_id: req.sdkAppId,
      room_id: req.roomId,
      gift_id: gift.giftId,
      from_account: req.from,
      receivers: JSON.stringify(receivers),
      count,
      coins: gift.coins,
      created_at: time,
    });
    this.live.publish({
      sdkAppId: req.sdkAppId,
      roomId: req.roomId,
      type: 'gift',
      data: {
        from: req.from,
        receivers,
        giftId: gift.giftId,
        count,
        coins: gift.coins,
        name: gift.defaultName,
        desc: gift.defaultDesc,
        iconUrl: gift.iconUrl,
        resourceUrl: gift.resourceUrl,
        level: gift.level,
        extensionInfo: gift.extensionInfo,
        languages: gift.languages,
      },
    });
    return sent;
  }

  /** What `user` received in a room since the room was created (get_gift_count). */
  async getGiftCount(sdkAppId: number, roomId: string, user: string): Promise<GiftCount> {
    requireGiftFeature(this.appsService, sdkAppId);
    const room = this.live.get(sdkAppId, roomId);
    if (user === '') invalid('From_Account is empty');
    const s = await this.store.gifts.receivedStats(sdkAppId, roomId, user, room.createdAt);
    return { sequence: s.roomRecords, totalCount: s.count, totalCoins: s.coins, senderCount: s.senders };
  }

  // ---- internals ----

  private requireRoomSwitch(sdkAppId: number, roomId: string): void {
    if (!this.live.get(sdkAppId, roomId).info.IsGiftEnabled) throw new DomainError('FAILED_PRECONDITION', `gifts are switched off in room ${roomId} (IsGiftEnabled is false)`, GiftErrors.ROOM_DISABLED);
  }

  /**
   * Records one accepted gift durably. Gifts accepted in the same event-loop turn are committed together in one
   * transaction (group commit: one WAL write instead of one per gift); each caller resumes only after the commit
   * that holds its row, so an acknowledged gift is always on disk and a failed commit acknowledges none of them.
   */
  private record(row: GiftRecordRow): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ row, done: (err) => (err === undefined ? resolve() : reject(err)) }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      await this.store.transaction(async (tx) => {
        for (const b of batch) await tx.gifts.record(b.row);
      });
    } catch (err) {
      for (const b of batch) b.done(err ?? new Error('gift commit failed'));
      return;
    }
    for (const b of batch) b.done();
  }
}
