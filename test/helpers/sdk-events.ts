// Waiting for the client SDK's events in tests.
import type { TrtcdClient } from '../../web/sdk/client.ts';
import type { TrtcdEvents } from '../../web/sdk/types.ts';

/** The next `name` event of `client` matching `pred`; rejects after `ms` so a missing event fails the test instead of hanging it. */
export function nextEvent<K extends keyof TrtcdEvents>(
  client: TrtcdClient,
  name: K,
  pred: (e: TrtcdEvents[K]) => boolean = () => true,
  ms = 5000,
): Promise<TrtcdEvents[K]> {
  return new Promise((resolve, reject) => {
    const off = client.on(name, (e) => {
      if (!pred(e)) return;
      off();
      clearTimeout(timer);
      resolve(e);
    });
    const timer = setTimeout(() => (off(), reject(new Error(`no ${String(name)} event for ${client.userId} within ${ms} ms`))), ms);
  });
}

/** Every `name` event of `client` from now on, in order. */
export function collect<K extends keyof TrtcdEvents>(client: TrtcdClient, name: K): Array<TrtcdEvents[K]> {
  const out: Array<TrtcdEvents[K]> = [];
  client.on(name, (e) => out.push(e));
  return out;
}
