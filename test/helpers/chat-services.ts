import { rmSync } from 'node:fs';
import { InProcessBus } from '../../src/bus/bus.ts';
import { AccountsService } from '../../src/services/accounts/accounts-service.ts';
import { AppsService } from '../../src/services/apps/apps-service.ts';
import { GroupsService } from '../../src/services/chat/groups-service.ts';
import { MessagesService } from '../../src/services/chat/messages-service.ts';
import type { MsgElement } from '../../src/services/chat/message.ts';
import { openStore, type Store, type StoreOptions } from '../../src/store/store.ts';
import { PG_SKIP, PG_URL, pgSchema } from './pg.ts';
import { tempDir } from './server.ts';

/** The Chat services over a real store, as the server wires them. */
export interface ChatServices {
  store: Store;
  bus: InProcessBus;
  accounts: AccountsService;
  messages: MessagesService;
  groups: GroupsService;
  close(): Promise<void>;
}

/** Where a test's store lives: a fresh SQLite directory or a fresh PostgreSQL schema. */
export interface ChatTarget {
  options: StoreOptions;
  cleanup(): Promise<void>;
}

/** The stores Chat tests run on, with the reason a kind is skipped (PostgreSQL needs TRTCD_TEST_PG_URL). */
export const CHAT_STORES: Array<{ kind: 'sqlite' | 'postgres'; skip: string | false }> = [
  { kind: 'sqlite', skip: false },
  { kind: 'postgres', skip: PG_URL ? false : PG_SKIP },
];

/** A fresh, empty store location of the given kind. */
export async function chatTarget(kind: 'sqlite' | 'postgres'): Promise<ChatTarget> {
  const dataDir = tempDir();
  if (kind === 'sqlite') return { options: { dataDir }, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
  const schema = await pgSchema();
  return {
    options: { store: schema.url, dataDir, pgPoolSize: 4 },
    cleanup: async () => {
      await schema.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens (or reopens) the store and starts the Chat services on it, groups loaded. */
export async function openChat(options: StoreOptions): Promise<ChatServices> {
  const store = await openStore(options);
  const bus = new InProcessBus();
  const apps = new AppsService(store);
  await apps.load();
  const accounts = new AccountsService(store, apps, bus);
  accounts.start();
  const messages = new MessagesService(store, accounts, bus);
  const groups = new GroupsService(store, accounts, bus);
  await groups.start();
  return {
    store,
    bus,
    accounts,
    messages,
    groups,
    async close() {
      groups.stop();
      accounts.stop();
      await store.close();
    },
  };
}

/** A test's Chat services on a fresh store of `kind`, with `users` imported into `sdkAppId`. */
export async function freshChat(kind: 'sqlite' | 'postgres', sdkAppId: number, users: string[]): Promise<{ target: ChatTarget; c: ChatServices }> {
  const target = await chatTarget(kind);
  const c = await openChat(target.options);
  await c.accounts.importMany(sdkAppId, users.map((userId) => ({ userId })));
  return { target, c };
}

/** Closes a test's Chat services, then removes their store. */
export async function closeChat(c: ChatServices, target: ChatTarget): Promise<void> {
  await c.close();
  await target.cleanup();
}

/** A message body of one text element. */
export function textBody(text: string): MsgElement[] {
  return [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }];
}
