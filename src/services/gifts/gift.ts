import type { App, AppsService } from '../apps/apps-service.ts';
import { DomainError } from '../errors.ts';

/** Languages a gift or category can be translated into. */
const LANGUAGES = ['en', 'zh-Hans', 'zh-Hant'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Longest GiftId and CategoryId, in bytes. */
const MAX_ID_BYTES = 20;
/** Longest IconUrl and ResourceUrl, in bytes. */
const MAX_URL_BYTES = 200;
/** Longest ExtensionInfo (JSON text), in bytes. */
const MAX_EXTENSION_INFO_BYTES = 100;
/** Longest name (DefaultName, Name, CategoryName), in bytes. */
export const MAX_NAME_BYTES = 20;
/** Longest gift description (DefaultDesc, Desc), in bytes (https://cloud.tencent.com/document/product/647/121322). */
export const MAX_DESC_BYTES = 20;
/** Longest category description (DefaultDesc, CategoryDesc), in bytes: "最长60字节" (https://cloud.tencent.com/document/product/454/124223). */
export const MAX_CATEGORY_DESC_BYTES = 60;
/** Largest Coins and Level (unconfirmed: an Int32). */
const MAX_INT = 2_147_483_647;
/** Most gifts one app may configure (unconfirmed; Tencent's limit depends on the package). */
export const MAX_GIFTS_PER_APP = 1000;
/** Most categories one app may configure: "最多设置3个礼物分类" (https://cloud.tencent.com/document/product/454/124223). */
export const MAX_CATEGORIES_PER_APP = 3;
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
  /** copy_default_gift_config on an app that has a gift configuration (102010). */
  CONFIG_EXISTS: 'GIFT_CONFIG_EXISTS',
  /** Unknown CategoryId (100002: no code of its own is documented). */
  CATEGORY_NOT_FOUND: 'CATEGORY_NOT_FOUND',
} as const;

/**
 * ErrorCodes of a Live.CallbackBeforeSendGift answer that reach the sender as they are; any other non-zero code
 * blocks with 102004 ("The error code interval that can be passed through is [102100,102200]",
 * https://www.tencentcloud.com/document/product/647/72210).
 */
export const PASS_THROUGH_MIN = 102100;
export const PASS_THROUGH_MAX = 102200;

/** The app server refused a gift with an ErrorCode the sender is given as it is (with the server's ErrorInfo). */
export class GiftRefusedByApp extends DomainError {
  constructor(
    message: string,
    readonly errorCode: number,
    readonly errorInfo: string,
  ) {
    super('FAILED_PRECONDITION', message, GiftErrors.CALLBACK_FAILED);
  }
}

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


const bytes = (s: string) => Buffer.byteLength(s);

/** Throws INVALID_ARGUMENT with `message`. */
export function invalid(message: string): never {
  throw new DomainError('INVALID_ARGUMENT', message);
}

/** A GiftId or CategoryId: not empty, at most MAX_ID_BYTES. */
function checkId(field: string, id: string): void {
  if (id === '') invalid(`${field} is empty`);
  if (bytes(id) > MAX_ID_BYTES) invalid(`${field} is longer than ${MAX_ID_BYTES} bytes`);
}

/** A string field, when given: at most `max` bytes. */
export function checkMax(field: string, v: string | undefined, max: number): void {
  if (v !== undefined && bytes(v) > max) invalid(`${field} is longer than ${max} bytes`);
}

/** A number field, when given: an integer from 0 to MAX_INT. */
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

/** A Language: one of LANGUAGES. */
export function checkLanguage(lang: string): asserts lang is Language {
  if (!(LANGUAGES as readonly string[]).includes(lang)) invalid(`Language must be one of ${LANGUAGES.join(', ')}; got "${lang}"`);
}

/** The fields of `o` that are not undefined. */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Checks every field of a gift against the limits; returns it unchanged. */
export function validGift(g: Gift): Gift {
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

/** Checks every field of a category against the limits; returns it unchanged. */
export function validCategory(c: GiftCategory): GiftCategory {
  checkId('CategoryId', c.categoryId);
  checkMax('DefaultName', c.defaultName, MAX_NAME_BYTES);
  checkMax('DefaultDesc', c.defaultDesc, MAX_CATEGORY_DESC_BYTES);
  checkExtension(c.extensionInfo);
  return c;
}

/** The app, or NOT_FOUND when unknown and FAILED_PRECONDITION (GIFT_DISABLED, 102001) when its gift feature is off. */
export function requireGiftFeature(apps: AppsService, sdkAppId: number): App {
  const app = apps.get(sdkAppId);
  if (!app) throw new DomainError('NOT_FOUND', `app ${sdkAppId} not found`);
  if (!app.settings.features.gift) throw new DomainError('FAILED_PRECONDITION', 'the gift feature is off for this app (features.gift)', GiftErrors.DISABLED);
  return app;
}
