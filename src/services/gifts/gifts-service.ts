import type { Insertable } from 'kysely';
import type { GiftRecordsTable } from '../../store/schema.ts';
import type { Repos, Store } from '../../store/store.ts';
import { beforeSendGiftBody, callBeforeSendGift, BEFORE_SEND_GIFT_TIMEOUT_MS } from '../../webhooks/live-callbacks.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import type { AppsService } from '../apps/apps-service.ts';
import { DomainError } from '../errors.ts';
import type { LiveService } from '../live/live-service.ts';
import { DEFAULT_CATALOGUE } from './default-catalogue.ts';

/** Languages a gift or category can be translated into. */
export const LANGUAGES = ['en', 'zh-Hans', 'zh-Hant'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Longest GiftId and CategoryId, in bytes. */
export const MAX_ID_BYTES = 20;
/** Longest IconUrl and ResourceUrl, in bytes. */
export const MAX_URL_BYTES = 200;
/** Longest ExtensionInfo (JSON text), in bytes. */
export const MAX_EXTENSION_INFO_BYTES = 100;
/** Longest name (DefaultName, Name, CategoryName), in bytes. */
export const MAX_NAME_BYTES = 20;
/** Longest description (DefaultDesc, Desc, CategoryDesc), in bytes. */
export const MAX_DESC_BYTES = 20;
/** Largest Coins and Level (unconfirmed: an Int32). */
export const MAX_INT = 2_147_483_647;
/** Most gifts and categories one app may configure (unconfirmed; Tencent's limit depends on the package). */
export const MAX_GIFTS_PER_APP = 1000;
export const MAX_CATEGORIES_PER_APP = 100;
/** Largest Count of one send_gift (unconfirmed). */
export const MAX_GIFT_COUNT = 9999;
/** Most receivers of one send_gift (unconfirmed). */
export const MAX_RECEIVERS = 100;

/** DomainError details the gateways map to gift wire codes. */
export const GiftErrors = {
  /** The app's gift feature is off (102001). */
  DISABLED: 'GIFT_DISABLED',
  /** Unknown GiftId (102002). */
  NOT_FOUND: 'GIFT_NOT_FOUND',
  /** The room's gift switch is off (102008). */
  ROOM_DISABLED: 'ROOM_GIFT_DISABLED',
  /** Live.CallbackBeforeSendGift blocked the gift (102004). */
  CALLBACK_FAILED: 'GIFT_CALLBACK_FAILED',
  /** Unknown CategoryId (100002: no code of its own is documented). */
  CATEGORY_NOT_FOUND: 'CATEGORY_NOT_FOUND',
} as const;

/** A name and description in one language. */
export interface GiftText {
  name: string;
  desc: string;
}

/** A gift of an app's catalogue. */
export interface Gift {
  giftId: string;
  iconUrl: string;
  resourceUrl: string;
  coins: number;
  level: number;
  extensionInfo: string;
  defaultName: string;
  defaultDesc: string;
  languages: Partial<Record<Language, GiftText>>;
}

/** A gift category, with the ids of its gifts in the order they were added. */
export interface GiftCategory {
  categoryId: string;
  defaultName: string;
  defaultDesc: string;
  extensionInfo: string;
  languages: Partial<Record<Language, GiftText>>;
  giftIds: string[];
}

/** The fields of add_gift. */
export interface GiftInput {
  giftId: string;
  iconUrl?: string;
  resourceUrl?: string;
  coins: number;
  level?: number;
  extensionInfo?: string;
  defaultName: string;
  defaultDesc?: string;
}

/** The fields of edit_gift (only those given change). */
export type GiftPatch = Partial<Omit<GiftInput, 'giftId'>>;

/** The fields of add_gift_category. */
export interface CategoryInput {
  categoryId: string;
  defaultName: string;
  defaultDesc?: string;
  extensionInfo?: string;
}

/** The fields of edit_gift_category (only those given change). */
export type CategoryPatch = Partial<Omit<CategoryInput, 'categoryId'>>;

/** A send_gift request. */
export interface SendGiftRequest {
  sdkAppId: number;
  roomId: string;
  giftId: string;
  from: string;
  receivers: string[];
  /** Default 1. */
  count?: number;
}

/** An accepted gift, as recorded and published. */
export interface SentGift {
  sdkAppId: number;
  roomId: string;
  giftId: string;
  from: string;
  receivers: string[];
  count: number;
  /** One gift's price. */
  coins: number;
  /** Unix ms. */
  time: number;
}

/** get_gift_count: what one user received in a room since the room was created. */
export interface GiftCount {
  /** Accepted sends in the room (to anyone) since it was created: grows with every gift, so a newer answer has a higher one. */
  sequence: number;
  /** Gifts the user received: the sum of Count over the sends naming them as a receiver. */
  totalCount: number;
  /** Their value: the sum of Count × Coins. */
  totalCoins: number;
  /** Distinct users who sent them gifts. */
  senderCount: number;
}

/** Where a request came from, for the callback's ClientIP and OptPlatform. */
export interface GiftMeta {
  clientIp?: string;
  platform?: string;
}

interface Catalogue {
  gifts: Map<string, Gift>;
  categories: Map<string, GiftCategory>;
}

type GiftRecordRow = Omit<Insertable<GiftRecordsTable>, 'id'>;
type StoredGift = Omit<Gift, 'giftId'>;
type StoredCategory = Omit<GiftCategory, 'categoryId'>;

const bytes = (s: string) => Buffer.byteLength(s);

function invalid(message: string): never {
  throw new DomainError('INVALID_ARGUMENT', message);
}

function checkId(field: string, id: string): void {
  if (id === '') invalid(`${field} is empty`);
  if (bytes(id) > MAX_ID_BYTES) invalid(`${field} is longer than ${MAX_ID_BYTES} bytes`);
}

function checkMax(field: string, v: string | undefined, max: number): void {
  if (v !== undefined && bytes(v) > max) invalid(`${field} is longer than ${max} bytes`);
}

function checkInt(field: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0 && v <= MAX_INT)) invalid(`${field} must be an integer from 0 to ${MAX_INT}`);
}

/** ExtensionInfo: empty (none) or JSON text of at most 100 bytes. */
function checkExtension(v: string | undefined): void {
  if (v === undefined || v === '') return;
  checkMax('ExtensionInfo', v, MAX_EXTENSION_INFO_BYTES);
  try {
    JSON.parse(v);
  } catch {
    invalid('ExtensionInfo must be JSON text');
  }
}

function checkLanguage(lang: string): asserts lang is Language {
  if (!(LANGUAGES as readonly string[]).includes(lang)) invalid(`Language must be one of ${LANGUAGES.join(', ')}; got "${lang}"`);
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The gift system of TUILiveKit: each app's catalogue (gifts, categories, translations, gift–category relations),
 * kept in memory and written to the store before a change is acknowledged; and send_gift, which checks the gift,
 * asks the app server (Live.CallbackBeforeSendGift), records the gift durably, then publishes it on the bus.
 */
export class GiftsService {
  private readonly apps = new Map<number, Catalogue>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Accepted gifts waiting for the next group commit. */
  private pending: Array<{ row: GiftRecordRow; done: (err?: unknown) => void }> = [];
  private lastCreatedAt = 0;
  /** How long the before-send-gift callback may take. */
  callbackTimeoutMs: number;

  constructor(
    private readonly store: Store,
    private readonly appsService: AppsService,
    private readonly accounts: AccountsService,
    private readonly live: LiveService,
    opts: { callbackTimeoutMs?: number } = {},
  ) {
    this.callbackTimeoutMs = opts.callbackTimeoutMs ?? BEFORE_SEND_GIFT_TIMEOUT_MS;
  }

  /** Loads every app's catalogue from the store. */
  async load(): Promise<void> {
    const { gifts, categories } = await this.store.gifts.all();
    for (const r of gifts) this.catalogue(r.sdkAppId).gifts.set(r.id, { giftId: r.id, ...(JSON.parse(r.info) as StoredGift) });
    for (const r of categories) this.catalogue(r.sdkAppId).categories.set(r.id, { categoryId: r.id, ...(JSON.parse(r.info) as StoredCategory) });
  }

  // ---- gifts ----

  /** Adds a gift; ALREADY_EXISTS when the GiftId is taken. */
  async addGift(sdkAppId: number, input: GiftInput): Promise<Gift> {
    this.requireFeature(sdkAppId);
    const gift = this.validGift({
      giftId: input.giftId,
      iconUrl: input.iconUrl ?? '',
      resourceUrl: input.resourceUrl ?? '',
      coins: input.coins,
      level: input.level ?? 0,
      extensionInfo: input.extensionInfo ?? '',
      defaultName: input.defaultName,
      defaultDesc: input.defaultDesc ?? '',
      languages: {},
    });
    return this.serial(async () => {
      const c = this.catalogue(sdkAppId);
      if (c.gifts.has(gift.giftId)) throw new DomainError('ALREADY_EXISTS', `GiftId ${gift.giftId} already exists; change it with edit_gift`);
      if (c.gifts.size >= MAX_GIFTS_PER_APP) throw new DomainError('LIMIT_EXCEEDED', `an app can configure at most ${MAX_GIFTS_PER_APP} gifts`);
      await this.putGift(this.store, sdkAppId, gift);
      c.gifts.set(gift.giftId, gift);
      return gift;
    });
  }

  /** Changes the fields given of a gift. */
  async editGift(sdkAppId: number, giftId: string, patch: GiftPatch): Promise<Gift> {
    this.requireFeature(sdkAppId);
    return this.serial(async () => {
      const next = this.validGift({ ...this.gift(sdkAppId, giftId), ...defined(patch) });
      await this.putGift(this.store, sdkAppId, next);
      this.catalogue(sdkAppId).gifts.set(giftId, next);
      return next;
    });
  }

  /** Deletes a gift with its translations and its gift–category relations. */
  async delGift(sdkAppId: number, giftId: string): Promise<void> {
    this.requireFeature(sdkAppId);
    await this.serial(async () => {
      this.gift(sdkAppId, giftId);
      const c = this.catalogue(sdkAppId);
      const touched = [...c.categories.values()].filter((cat) => cat.giftIds.includes(giftId)).map((cat) => ({ ...cat, giftIds: cat.giftIds.filter((id) => id !== giftId) }));
      await this.store.transaction(async (tx) => {
        await tx.gifts.delete('gift', sdkAppId, giftId);
        for (const cat of touched) await this.putCategory(tx, sdkAppId, cat);
      });
      c.gifts.delete(giftId);
      for (const cat of touched) c.categories.set(cat.categoryId, cat);
    });
  }

  /** One gift, or NOT_FOUND (102002). */
  getGift(sdkAppId: number, giftId: string): Gift {
    this.requireFeature(sdkAppId);
    return this.gift(sdkAppId, giftId);
  }

  /** Every gift of an app, in the order they were added. */
  listGifts(sdkAppId: number): Gift[] {
    this.requireFeature(sdkAppId);
    return [...(this.apps.get(sdkAppId)?.gifts.values() ?? [])];
  }

  /** Sets a gift's name and description in one language; the name is required the first time. */
  async setGiftLanguage(sdkAppId: number, giftId: string, language: string, text: Partial<GiftText>): Promise<void> {
    this.requireFeature(sdkAppId);
    checkLanguage(language);
    checkMax('Name', text.name, MAX_NAME_BYTES);
    checkMax('Desc', text.desc, MAX_DESC_BYTES);
    await this.serial(async () => {
      const gift = this.gift(sdkAppId, giftId);
      const old = gift.languages[language];
      if (!old && text.name === undefined) invalid(`Name is required the first time a ${language} entry is set for gift ${giftId}`);
      const next: Gift = { ...gift, languages: { ...gift.languages, [language]: { name: text.name ?? old!.name, desc: text.desc ?? old?.desc ?? '' } } };
      await this.putGift(this.store, sdkAppId, next);
      this.catalogue(sdkAppId).gifts.set(giftId, next);
    });
  }

  /** A gift's name and description in one language; empty strings when it has no entry for that language. */
  getGiftLanguage(sdkAppId: number, giftId: string, language: string): GiftText {
    this.requireFeature(sdkAppId);
    checkLanguage(language);
    return this.gift(sdkAppId, giftId).languages[language] ?? { name: '', desc: '' };
  }

  /** Removes a gift's entry for one language (nothing to do when it has none). */
  async delGiftLanguage(sdkAppId: number, giftId: string, language: string): Promise<void> {
    this.requireFeature(sdkAppId);
    checkLanguage(language);
    await this.serial(async () => {
      const gift = this.gift(sdkAppId, giftId);
      if (!gift.languages[language]) return;
      const languages = { ...gift.languages };
      delete languages[language];
      const next = { ...gift, languages };
      await this.putGift(this.store, sdkAppId, next);
      this.catalogue(sdkAppId).gifts.set(giftId, next);
    });
  }

  // ---- categories ----

  /** Adds a category; ALREADY_EXISTS when the CategoryId is taken. */
  async addCategory(sdkAppId: number, input: CategoryInput): Promise<GiftCategory> {
    this.requireFeature(sdkAppId);
    const cat = this.validCategory({
      categoryId: input.categoryId,
      defaultName: input.defaultName,
      defaultDesc: input.defaultDesc ?? '',
      extensionInfo: input.extensionInfo ?? '',
      languages: {},
      giftIds: [],
    });
    return this.serial(async () => {
      const c = this.catalogue(sdkAppId);
      if (c.categories.has(cat.categoryId)) throw new DomainError('ALREADY_EXISTS', `CategoryId ${cat.categoryId} already exists; change it with edit_gift_category`);
      if (c.categories.size >= MAX_CATEGORIES_PER_APP) throw new DomainError('LIMIT_EXCEEDED', `an app can configure at most ${MAX_CATEGORIES_PER_APP} categories`);
      await this.putCategory(this.store, sdkAppId, cat);
      c.categories.set(cat.categoryId, cat);
      return cat;
    });
  }

  /** Changes the fields given of a category. */
  async editCategory(sdkAppId: number, categoryId: string, patch: CategoryPatch): Promise<GiftCategory> {
    this.requireFeature(sdkAppId);
    return this.changeCategory(sdkAppId, categoryId, (cat) => this.validCategory({ ...cat, ...defined(patch) }));
  }

  /** Deletes a category with its translations and relations (the gifts stay). */
  async delCategory(sdkAppId: number, categoryId: string): Promise<void> {
    this.requireFeature(sdkAppId);
    await this.serial(async () => {
      this.category(sdkAppId, categoryId);
      await this.store.gifts.delete('category', sdkAppId, categoryId);
      this.catalogue(sdkAppId).categories.delete(categoryId);
    });
  }

  /** One category, or NOT_FOUND. */
  getCategory(sdkAppId: number, categoryId: string): GiftCategory {
    this.requireFeature(sdkAppId);
    return this.category(sdkAppId, categoryId);
  }

  /** Every category of an app, in the order they were added. */
  listCategories(sdkAppId: number): GiftCategory[] {
    this.requireFeature(sdkAppId);
    return [...(this.apps.get(sdkAppId)?.categories.values() ?? [])];
  }

  /** Sets a category's name and description in one language; the name is required the first time. */
  async setCategoryLanguage(sdkAppId: number, categoryId: string, language: string, text: Partial<GiftText>): Promise<void> {
    this.requireFeature(sdkAppId);
    checkLanguage(language);
    checkMax('CategoryName', text.name, MAX_NAME_BYTES);
    checkMax('CategoryDesc', text.desc, MAX_DESC_BYTES);
    await this.changeCategory(sdkAppId, categoryId, (cat) => {
      const old = cat.languages[language];
      if (!old && text.name === undefined) invalid(`CategoryName is required the first time a ${language} entry is set for category ${categoryId}`);
      return { ...cat, languages: { ...cat.languages, [language]: { name: text.name ?? old!.name, desc: text.desc ?? old?.desc ?? '' } } };
    });
  }

  /** A category's name and description in one language; empty strings when it has no entry for that language. */
  getCategoryLanguage(sdkAppId: number, categoryId: string, language: string): GiftText {
    this.requireFeature(sdkAppId);
    checkLanguage(language);
    return this.category(sdkAppId, categoryId).languages[language] ?? { name: '', desc: '' };
  }

  /** Removes a category's entry for one language. */
  async delCategoryLanguage(sdkAppId: number, categoryId: string, language: string): Promise<void> {
    this.requireFeature(sdkAppId);
    checkLanguage(language);
    await this.changeCategory(sdkAppId, categoryId, (cat) => {
      const languages = { ...cat.languages };
      delete languages[language];
      return { ...cat, languages };
    });
  }

  // ---- relations ----

  /** Appends gifts to a category; returns the GiftIds that do not exist (not added). Gifts already in it stay where they are. */
  async addRelations(sdkAppId: number, categoryId: string, giftIds: string[]): Promise<{ invalid: string[] }> {
    this.requireFeature(sdkAppId);
    let bad: string[] = [];
    await this.changeCategory(sdkAppId, categoryId, (cat) => {
      const gifts = this.catalogue(sdkAppId).gifts;
      bad = [...new Set(giftIds.filter((id) => !gifts.has(id)))];
      const add = [...new Set(giftIds.filter((id) => gifts.has(id) && !cat.giftIds.includes(id)))];
      return { ...cat, giftIds: [...cat.giftIds, ...add] };
    });
    return { invalid: bad };
  }

  /** Removes gifts from a category (ids not in it are ignored). */
  async delRelations(sdkAppId: number, categoryId: string, giftIds: string[]): Promise<void> {
    this.requireFeature(sdkAppId);
    await this.changeCategory(sdkAppId, categoryId, (cat) => ({ ...cat, giftIds: cat.giftIds.filter((id) => !giftIds.includes(id)) }));
  }

  /** The GiftIds of a category, in the order they were added. */
  getRelations(sdkAppId: number, categoryId: string): string[] {
    this.requireFeature(sdkAppId);
    return this.category(sdkAppId, categoryId).giftIds;
  }

  /** Installs the default catalogue (3 categories, 15 gifts); FAILED_PRECONDITION unless the app has no gift configuration. */
  async copyDefault(sdkAppId: number): Promise<{ gifts: number; categories: number }> {
    this.requireFeature(sdkAppId);
    return this.serial(async () => {
      const c = this.catalogue(sdkAppId);
      if (c.gifts.size > 0 || c.categories.size > 0) {
        throw new DomainError(
          'FAILED_PRECONDITION',
          `the app already has a gift configuration (${c.gifts.size} gifts, ${c.categories.size} categories); copy_default_gift_config only runs on an app with none — delete them first`,
        );
      }
      const gifts: Gift[] = [];
      const categories: GiftCategory[] = [];
      for (const dc of DEFAULT_CATALOGUE) {
        for (const dg of dc.gifts) {
          gifts.push(
            this.validGift({
              giftId: dg.id,
              iconUrl: '',
              resourceUrl: '',
              coins: dg.coins,
              level: dg.level,
              extensionInfo: '',
              defaultName: dg.name,
              defaultDesc: dg.desc,
              languages: { en: { name: dg.name, desc: dg.desc }, 'zh-Hans': { name: dg.zhHans[0], desc: dg.zhHans[1] }, 'zh-Hant': { name: dg.zhHant[0], desc: dg.zhHant[1] } },
            }),
          );
        }
        categories.push(
          this.validCategory({
            categoryId: dc.id,
            defaultName: dc.name,
            defaultDesc: dc.desc,
            extensionInfo: '',
            languages: { en: { name: dc.name, desc: dc.desc }, 'zh-Hans': { name: dc.zhHans[0], desc: dc.zhHans[1] }, 'zh-Hant': { name: dc.zhHant[0], desc: dc.zhHant[1] } },
            giftIds: dc.gifts.map((g) => g.id),
          }),
        );
      }
      await this.store.transaction(async (tx) => {
        for (const g of gifts) await this.putGift(tx, sdkAppId, g);
        for (const cat of categories) await this.putCategory(tx, sdkAppId, cat);
      });
      for (const g of gifts) c.gifts.set(g.giftId, g);
      for (const cat of categories) c.categories.set(cat.categoryId, cat);
      return { gifts: gifts.length, categories: categories.length };
    });
  }

  // ---- sending ----

  /**
   * Sends a gift in a room. Checks, in order: the app's gift feature (102001), the room (100002 for a bad RoomId,
   * 100004 when unknown), the gift (102002), the room's gift switch (102008), the request's shape (Count 1–9999,
   * 1–100 receivers, no empty UserID: 100002), that the sender and receivers are imported accounts (100002); then
   * asks the app server through Live.CallbackBeforeSendGift when the app has a callback URL (102004 when it
   * refuses, fails or times out); then records the gift durably and only then publishes it and answers.
   */
  async sendGift(req: SendGiftRequest, meta: GiftMeta = {}): Promise<SentGift> {
    const app = this.requireFeature(req.sdkAppId);
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
    if (app.settings.callback.url) {
      const verdict = await callBeforeSendGift(
        app.settings,
        beforeSendGiftBody(req.from, req.roomId, { From_Account: req.from, To_Account: receivers, Time: Math.floor(time / 1000), GiftId: gift.giftId, Count: count, Coins: gift.coins }),
        { sdkAppId: req.sdkAppId, clientIp: meta.clientIp ?? '', platform: meta.platform ?? 'RESTAPI' },
        this.callbackTimeoutMs,
      );
      if (!verdict.allowed) throw new DomainError('FAILED_PRECONDITION', `Live.CallbackBeforeSendGift blocked the gift: ${verdict.reason}`, GiftErrors.CALLBACK_FAILED);
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
    this.requireFeature(sdkAppId);
    const room = this.live.get(sdkAppId, roomId);
    if (user === '') invalid('From_Account is empty');
    const s = await this.store.gifts.receivedStats(sdkAppId, roomId, user, room.createdAt);
    return { sequence: s.roomRecords, totalCount: s.count, totalCoins: s.coins, senderCount: s.senders };
  }

  // ---- internals ----

  private requireFeature(sdkAppId: number) {
    const app = this.appsService.get(sdkAppId);
    if (!app) throw new DomainError('NOT_FOUND', `app ${sdkAppId} not found`);
    if (!app.settings.features.gift) throw new DomainError('FAILED_PRECONDITION', 'the gift feature is off for this app (features.gift)', GiftErrors.DISABLED);
    return app;
  }

  private requireRoomSwitch(sdkAppId: number, roomId: string): void {
    if (!this.live.get(sdkAppId, roomId).info.IsGiftEnabled) throw new DomainError('FAILED_PRECONDITION', `gifts are switched off in room ${roomId} (IsGiftEnabled is false)`, GiftErrors.ROOM_DISABLED);
  }

  private catalogue(sdkAppId: number): Catalogue {
    let c = this.apps.get(sdkAppId);
    if (!c) {
      c = { gifts: new Map(), categories: new Map() };
      this.apps.set(sdkAppId, c);
    }
    return c;
  }

  private gift(sdkAppId: number, giftId: string): Gift {
    if (giftId === '') invalid('GiftId is empty');
    const g = this.apps.get(sdkAppId)?.gifts.get(giftId);
    if (!g) throw new DomainError('NOT_FOUND', `GiftId ${giftId} does not exist`, GiftErrors.NOT_FOUND);
    return g;
  }

  private category(sdkAppId: number, categoryId: string): GiftCategory {
    if (categoryId === '') invalid('CategoryId is empty');
    const c = this.apps.get(sdkAppId)?.categories.get(categoryId);
    if (!c) throw new DomainError('NOT_FOUND', `CategoryId ${categoryId} does not exist`, GiftErrors.CATEGORY_NOT_FOUND);
    return c;
  }

  private validGift(g: Gift): Gift {
    checkId('GiftId', g.giftId);
    checkMax('IconUrl', g.iconUrl, MAX_URL_BYTES);
    checkMax('ResourceUrl', g.resourceUrl, MAX_URL_BYTES);
    checkInt('Coins', g.coins);
    checkInt('Level', g.level);
    checkExtension(g.extensionInfo);
    checkMax('DefaultName', g.defaultName, MAX_NAME_BYTES);
    checkMax('DefaultDesc', g.defaultDesc, MAX_DESC_BYTES);
    return g;
  }

  private validCategory(c: GiftCategory): GiftCategory {
    checkId('CategoryId', c.categoryId);
    checkMax('DefaultName', c.defaultName, MAX_NAME_BYTES);
    checkMax('DefaultDesc', c.defaultDesc, MAX_DESC_BYTES);
    checkExtension(c.extensionInfo);
    return c;
  }

  private async changeCategory(sdkAppId: number, categoryId: string, fn: (c: GiftCategory) => GiftCategory): Promise<GiftCategory> {
    return this.serial(async () => {
      const next = fn(this.category(sdkAppId, categoryId));
      await this.putCategory(this.store, sdkAppId, next);
      this.catalogue(sdkAppId).categories.set(categoryId, next);
      return next;
    });
  }

  private putGift(repos: Pick<Repos, 'gifts'>, sdkAppId: number, g: Gift): Promise<void> {
    const { giftId, ...info } = g;
    return repos.gifts.put('gift', sdkAppId, giftId, JSON.stringify(info), this.createdAt());
  }

  private putCategory(repos: Pick<Repos, 'gifts'>, sdkAppId: number, c: GiftCategory): Promise<void> {
    const { categoryId, ...info } = c;
    return repos.gifts.put('category', sdkAppId, categoryId, JSON.stringify(info), this.createdAt());
  }

  /** A creation time that orders entries as they were added, even within one millisecond (an update keeps the first). */
  private createdAt(): number {
    this.lastCreatedAt = Math.max(Date.now(), this.lastCreatedAt + 1);
    return this.lastCreatedAt;
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

  /** Runs one catalogue change at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
