import { InProcessBus } from '../../src/bus/bus.ts';
import { AccountsService } from '../../src/services/accounts/accounts-service.ts';
import { AppsService } from '../../src/services/apps/apps-service.ts';
import { GroupsService } from '../../src/services/chat/groups-service.ts';
import { MessagesService } from '../../src/services/chat/messages-service.ts';
import { openStore, type Store } from '../../src/store/store.ts';

/** The Chat services over a real SQLite store in `dir`, as the server wires them. */
export interface ChatServices {
  store: Store;
  bus: InProcessBus;
  accounts: AccountsService;
  messages: MessagesService;
  groups: GroupsService;
  close(): Promise<void>;
}

/** Opens (or reopens) the store in `dir` and starts the Chat services on it, groups loaded. */
export async function openChat(dir: string): Promise<ChatServices> {
  const store = await openStore({ dataDir: dir });
  const bus = new InProcessBus();
  const apps = new AppsService(store);
  await apps.load();
  const accounts = new AccountsService(store, apps, bus);
  const messages = new MessagesService(store, accounts, bus);
  const groups = new GroupsService(store, accounts, bus);
  await groups.load();
  return {
    store,
    bus,
    accounts,
    messages,
    groups,
    async close() {
      groups.stop();
      await store.close();
    },
  };
}
