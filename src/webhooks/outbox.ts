// The callback outbox rows a change writes in its own transaction: the dispatcher delivers them once committed.
import type { AppSettings } from '../services/apps/settings.ts';
import type { OutboxRow } from '../store/outbox-repo.ts';
import type { CallbackEvent } from './call-callbacks.ts';
import { callbackTarget } from './callback-config.ts';

/** The outbox rows of the events whose command the app has a callback target for, due at `now`; [] for none. */
export function callbackRows(settings: AppSettings | undefined, sdkAppId: number, events: CallbackEvent[], origin: { clientIp: string; platform: string }, now = Date.now()): Array<Omit<OutboxRow, 'id'>> {
  if (!settings) return [];
  return events
    .filter((e) => callbackTarget(settings, e.command) !== null)
    .map((e) => ({
      sdk_app_id: sdkAppId,
      command: e.command,
      order_key: e.orderKey,
      body: JSON.stringify(e.body),
      client_ip: origin.clientIp,
      platform: origin.platform,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
      delivered_at: 0,
      last_status: 0,
      last_error: '',
    }));
}
