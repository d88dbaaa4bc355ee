import type { Bus } from '../../bus/bus.ts';
import type { Repos, Store } from '../../store/store.ts';
import type { AppsService } from '../apps/apps-service.ts';
import { DomainError } from '../errors.ts';
import { DEFAULT_CATALOGUE } from './default-catalogue.ts';
import {
  MAX_CATEGORIES_PER_APP,
  MAX_CATEGORY_DESC_BYTES,
  MAX_DESC_BYTES,
  MAX_GIFTS_PER_APP,
  MAX_NAME_BYTES,
  GiftErrors,
  checkLanguage,
  checkMax,
  defined,
  invalid,
  requireGiftFeature,
  validCategory,
  validGift,
  type CategoryInput,
  type CategoryPatch,
  type Gift,
  type GiftCategory,
  type GiftInput,
  type GiftPatch,
  type GiftText,
} from './gift.ts';
import { Serial } from '../serial.ts';

interface Catalogue {
  gifts: Map<string, Gift>;
  categories: Map<string, GiftCategory>;
}

type StoredGift = Omit<Gift, 'giftId'>;
type StoredCategory = Omit<GiftCategory, 'categoryId'>;

/** Bus topic of gift catalogue changes. */
const GIFT_CATALOGUE_TOPIC = 'gift.catalogue';

/**
 * Each app's gift catalogue (gifts, categories, translations, gift–category relations), kept in memory and written
 * to the store before a change is acknowledged.
 */
export class GiftCatalogue {
  private readonly apps = new Map<number, Catalogue>();
  private readonly serial = new Serial();
  private lastCreatedAt = 0;

  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly appsService: AppsService,
    private readonly bus?: Bus,
  ) {}

  /** Loads the catalogues and follows other nodes' changes to them. */
  async start(): Promise<void> {
    // Another node changed a catalogue: read them all again (catalogues are small and change rarely).
    this.unsubscribe ??= this.bus?.subscribe(GIFT_CATALOGUE_TOPIC, (_p, remote) => void (remote && this.serial.run(() => this.load())));
    await this.load();
  }

  /** Stops following other nodes. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Loads every app's catalogue from the store. */
  async load(): Promise<void> {
    const { gifts, categories } = await this.store.gifts.all();
    this.apps.clear();
    for (const r of gifts) this.catalogue(r.sdkAppId).gifts.set(r.id, { giftId: r.id, ...(JSON.parse(r.info) as StoredGift) });
    for (const r of categories) this.catalogue(r.sdkAppId).categories.set(r.id, { categoryId: r.id, ...(JSON.parse(r.info) as StoredCategory) });
  }

  /** Runs one catalogue change at a time, then tells the other nodes. */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial.run(async () => {
      const r = await fn();
      this.bus?.publish(GIFT_CATALOGUE_TOPIC, {});
      return r;
    });
  }

  // ---- gifts ----

  /** Adds a gift; ALREADY_EXISTS when the GiftId is taken. */
  async addGift(sdkAppId: number, input: GiftInput): Promise<Gift> {
    requireGiftFeature(this.appsService, sdkAppId);
    const gift = validGift({
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
    return this.write(async () => {
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
    requireGiftFeature(this.appsService, sdkAppId);
    return this.write(async () => {
      const next = validGift({ ...this.gift(sdkAppId, giftId), ...defined(patch) });
      await this.putGift(this.store, sdkAppId, next);
      this.catalogue(sdkAppId).gifts.set(giftId, next);
      return next;
    });
  }

  /** Deletes a gift with its translations and its gift–category relations. */
  async delGift(sdkAppId: number, giftId: string): Promise<void> {
    requireGiftFeature(this.appsService, sdkAppId);
    await this.write(async () => {
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
    requireGiftFeature(this.appsService, sdkAppId);
    return this.gift(sdkAppId, giftId);
  }

  /** Every gift of an app, in the order they were added. */
  listGifts(sdkAppId: number): Gift[] {
    requireGiftFeature(this.appsService, sdkAppId);
    return [...(this.apps.get(sdkAppId)?.gifts.values() ?? [])];
  }

  /** Sets a gift's name and description in one language; the name is required the first time. */
  async setGiftLanguage(sdkAppId: number, giftId: string, language: string, text: Partial<GiftText>): Promise<void> {
    requireGiftFeature(this.appsService, sdkAppId);
    checkLanguage(language);
    checkMax('Name', text.name, MAX_NAME_BYTES);
    checkMax('Desc', text.desc, MAX_DESC_BYTES);
    await this.write(async () => {
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
    requireGiftFeature(this.appsService, sdkAppId);
    checkLanguage(language);
    return this.gift(sdkAppId, giftId).languages[language] ?? { name: '', desc: '' };
  }

  /** Removes a gift's entry for one language (nothing to do when it has none). */
  async delGiftLanguage(sdkAppId: number, giftId: string, language: string): Promise<void> {
    requireGiftFeature(this.appsService, sdkAppId);
    checkLanguage(language);
    await this.write(async () => {
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
    requireGiftFeature(this.appsService, sdkAppId);
    const cat = validCategory({
      categoryId: input.categoryId,
      defaultName: input.defaultName,
      defaultDesc: input.defaultDesc ?? '',
      extensionInfo: input.extensionInfo ?? '',
      languages: {},
      giftIds: [],
    });
    return this.write(async () => {
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
    requireGiftFeature(this.appsService, sdkAppId);
    return this.changeCategory(sdkAppId, categoryId, (cat) => validCategory({ ...cat, ...defined(patch) }));
  }

  /** Deletes a category with its translations and relations (the gifts stay). */
  async delCategory(sdkAppId: number, categoryId: string): Promise<void> {
    requireGiftFeature(this.appsService, sdkAppId);
    await this.write(async () => {
      this.category(sdkAppId, categoryId);
      await this.store.gifts.delete('category', sdkAppId, categoryId);
      this.catalogue(sdkAppId).categories.delete(categoryId);
    });
  }

  /** One category, or NOT_FOUND. */
  getCategory(sdkAppId: number, categoryId: string): GiftCategory {
    requireGiftFeature(this.appsService, sdkAppId);
    return this.category(sdkAppId, categoryId);
  }

  /** Every category of an app, in the order they were added. */
  listCategories(sdkAppId: number): GiftCategory[] {
    requireGiftFeature(this.appsService, sdkAppId);
    return [...(this.apps.get(sdkAppId)?.categories.values() ?? [])];
  }

  /** Sets a category's name and description in one language; the name is required the first time. */
  async setCategoryLanguage(sdkAppId: number, categoryId: string, language: string, text: Partial<GiftText>): Promise<void> {
    requireGiftFeature(this.appsService, sdkAppId);
    checkLanguage(language);
    checkMax('CategoryName', text.name, MAX_NAME_BYTES);
    checkMax('CategoryDesc', text.desc, MAX_CATEGORY_DESC_BYTES);
    await this.changeCategory(sdkAppId, categoryId, (cat) => {
      const old = cat.languages[language];
      if (!old && text.name === undefined) invalid(`CategoryName is required the first time a ${language} entry is set for category ${categoryId}`);
      return { ...cat, languages: { ...cat.languages, [language]: { name: text.name ?? old!.name, desc: text.desc ?? old?.desc ?? '' } } };
    });
  }

  /** A category's name and description in one language; empty strings when it has no entry for that language. */
  getCategoryLanguage(sdkAppId: number, categoryId: string, language: string): GiftText {
    requireGiftFeature(this.appsService, sdkAppId);
    checkLanguage(language);
    return this.category(sdkAppId, categoryId).languages[language] ?? { name: '', desc: '' };
  }

  /** Removes a category's entry for one language. */
  async delCategoryLanguage(sdkAppId: number, categoryId: string, language: string): Promise<void> {
    requireGiftFeature(this.appsService, sdkAppId);
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
    requireGiftFeature(this.appsService, sdkAppId);
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
    requireGiftFeature(this.appsService, sdkAppId);
    await this.changeCategory(sdkAppId, categoryId, (cat) => ({ ...cat, giftIds: cat.giftIds.filter((id) => !giftIds.includes(id)) }));
  }

  /** The GiftIds of a category, in the order they were added. */
  getRelations(sdkAppId: number, categoryId: string): string[] {
    requireGiftFeature(this.appsService, sdkAppId);
    return this.category(sdkAppId, categoryId).giftIds;
  }

  /** Installs the default catalogue (3 categories, 15 gifts); FAILED_PRECONDITION (CONFIG_EXISTS) unless the app has no gift configuration. */
  async copyDefault(sdkAppId: number): Promise<{ gifts: number; categories: number }> {
    requireGiftFeature(this.appsService, sdkAppId);
    return this.write(async () => {
      const c = this.catalogue(sdkAppId);
      if (c.gifts.size > 0 || c.categories.size > 0) {
        throw new DomainError(
          'FAILED_PRECONDITION',
          `the app already has a gift configuration (${c.gifts.size} gifts, ${c.categories.size} categories); copy_default_gift_config only runs on an app with none — delete them first`,
          GiftErrors.CONFIG_EXISTS,
        );
      }
      const gifts: Gift[] = [];
      const categories: GiftCategory[] = [];
      for (const dc of DEFAULT_CATALOGUE) {
        for (const dg of dc.gifts) {
          gifts.push(
            validGift({
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
          validCategory({
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

  // ---- internals ----

  private catalogue(sdkAppId: number): Catalogue {
    let c = this.apps.get(sdkAppId);
    if (!c) {
      c = { gifts: new Map(), categories: new Map() };
      this.apps.set(sdkAppId, c);
    }
    return c;
  }

  protected gift(sdkAppId: number, giftId: string): Gift {
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

  private async changeCategory(sdkAppId: number, categoryId: string, fn: (c: GiftCategory) => GiftCategory): Promise<GiftCategory> {
    return this.write(async () => {
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

}
