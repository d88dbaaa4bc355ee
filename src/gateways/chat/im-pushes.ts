import type { ChatEvent, GroupType } from '../../services/chat/message.ts';
import type { GroupsService } from '../../services/chat/groups-service.ts';
import type { MessagesService } from '../../services/chat/messages-service.ts';
import { c2cItem, groupItem } from './im-commands.ts';

/** What message pushes need. */
interface ImPushDeps {
  messages: Pick<MessagesService, 'delivered'>;
  groups: Pick<GroupsService, 'get'>;
  /** Pushes to every instance of a user on this node; how many got it. */
  pushTo(sdkAppId: number, userId: string, servcmd: string, body: unknown): number;
  track(p: Promise<unknown>): void;
}

/**
 * A stored message (from an SDK user, REST or another node) → im_open_push.msg_push to the online instances of the
 * recipient and of the sender (a sync copy; the sending instance drops its own by MsgRandom). A message pushed to the
 * recipient advances their sync cursor, so the next login's openim.getmsg does not deliver it again.
 */
export function pushMessage(d: ImPushDeps, e: ChatEvent): void {
  if (e.kind === 'c2c') {
    const m = e.message;
    const got = d.pushTo(m.sdkAppId, m.to, 'im_open_push.msg_push', { EventArray: [{ Event: 9, C2cMsgArray: [c2cItem(m, m.to)] }] });
    if (e.syncSender !== false && m.from !== m.to && m.from !== '') d.pushTo(m.sdkAppId, m.from, 'im_open_push.msg_push', { EventArray: [{ Event: 9, C2cMsgArray: [c2cItem(m, m.from)] }] });
    if (got > 0 && m.id > 0) d.track(d.messages.delivered(m.sdkAppId, m.to, m.id));
    return;
  }
  let type: GroupType = 'Work';
  try {
    type = d.groups.get(e.message.sdkAppId, e.message.groupId).type;
  } catch {
    // A group dismissed meanwhile: its last message still goes out, typed as the default.
  }
  const body = { EventArray: [{ Event: 3, GroupMsgArray: [groupItem(e.message, type)] }] };
  for (const u of e.members) d.pushTo(e.message.sdkAppId, u, 'im_open_push.msg_push', body);
}
