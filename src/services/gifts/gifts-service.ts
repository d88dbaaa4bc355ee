import type { Bus } from '../../bus/bus.ts';
import type { Store } from '../../store/store.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import type { AppsService } from '../apps/apps-service.ts';
import type { LiveService } from '../live/live-service.ts';
import { GiftCatalogue } from './gift-catalogue.ts';
import { GiftSender } from './gift-sender.ts';
import type { GiftCount, GiftMeta, SendGiftRequest, SentGift } from './gift.ts';

export { MAX_GIFT_COUNT, MAX_RECEIVERS, GiftErrors } from './gift.ts';
export type { Language, GiftText, Gift, GiftCategory, GiftInput, GiftPatch, CategoryInput, CategoryPatch, SendGiftRequest, SentGift, GiftCount, GiftMeta } from './gift.ts';

/**
 * The gift system of TUILiveKit: each app's catalogue (gifts, categories, translations, gift–category relations),
 * kept in memory and written to the store before a change is acknowledged; and send_gift, which checks the gift,
 * asks the app server (Live.CallbackBeforeSendGift), records the gift durably, then publishes it on the bus.
 */
export class GiftsService extends GiftCatalogue {
  private readonly sender: GiftSender;

  constructor(store: Store, appsService: AppsService, accounts: AccountsService, live: LiveService, opts: { callbackTimeoutMs?: number; bus?: Bus } = {}) {
    super(store, appsService, opts.bus);
    this.sender = new GiftSender(store, appsService, accounts, live, (sdkAppId, giftId) => this.gift(sdkAppId, giftId), opts);
  }

  /** How long the before-send-gift callback may take. */
  get callbackTimeoutMs(): number {
    return this.sender.callbackTimeoutMs;
  }

  set callbackTimeoutMs(ms: number) {
    this.sender.callbackTimeoutMs = ms;
  }

  /** Sends a gift in a room: see GiftSender.sendGift for the checks, the callback and the durable record. */
  sendGift(req: SendGiftRequest, meta: GiftMeta = {}): Promise<SentGift> {
    return this.sender.sendGift(req, meta);
  }

  /** What `user` received in a room since the room was created (get_gift_count). */
  getGiftCount(sdkAppId: number, roomId: string, user: string): Promise<GiftCount> {
    return this.sender.getGiftCount(sdkAppId, roomId, user);
  }
}
