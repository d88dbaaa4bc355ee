// The Chat SDK's C2C conversation commands: the conversation list (recentcontact.page_get), a conversation's history
// (openim.getroammsg, chat.getMessageList) and read marks (openim.msgreaded, openim.get_peer_read_time). Wire shapes as
// @tencentcloud/chat 3.6.6 reads them: its key maps for PAGING_GET_CONV_LIST, GET_C2C_ROAMING_MSG, SET_C2C_MSG_READ and
// GET_C2C_PEER_READ_TIME, and the conversation module that turns a SessionItem into a Conversation.
import { Type } from '@sinclair/typebox';
import { msgKey, type C2CMessage } from '../../services/chat/message.ts';
import type { C2CConversation, MessagesService } from '../../services/chat/messages-service.ts';
import { chatCommand, withRefusals, type ChatCommandTable } from './command.ts';
import { ChatErrors, type ChatErrorEntry } from './errors.ts';
import { c2cItem } from './im-commands.ts';

/** What the conversation commands need. */
export type ConversationDeps = Pick<MessagesService, 'conversations' | 'history' | 'markRead' | 'peerReadTimes'>;

/** Conversations one recentcontact.page_get reply lists (CompleteFlag 0 and the next StartIndex beyond it). */
export const CONV_PAGE = 100;
/** Messages of a getroammsg page when MaxCnt is 0 or absent (the SDK's own default). */
const ROAM_DEFAULT = 15;

const REFUSALS: Partial<Record<string, ChatErrorEntry>> = {
  BAD_KEY: ChatErrors.INVALID_PARAMETER,
  BAD_TIME: ChatErrors.INVALID_PARAMETER,
  BAD_BOUND: ChatErrors.INVALID_PARAMETER,
};

const UserId = Type.String({ minLength: 1, maxLength: 32 });
const Time = Type.Integer({ minimum: 0, maximum: 0xffffffff });

/** The last message of a conversation as SessionItem[].LastMsg (read as lastMsg.elements / .cloudCustomData). */
function lastMsg(m: C2CMessage): Record<string, unknown> {
  return { From_Account: m.from, To_Account: m.to, MsgSeq: m.seq, MsgRandom: m.random, MsgTimeStamp: m.time, MsgBody: m.body, CloudCustomData: m.cloudCustomData };
}

/**
 * A C2C conversation as one SessionItem. The SDK (3.6.6) makes it `C2C<To_Account>` with lastMessage {lastTime:
 * MsgTimeStamp, lastSequence: MsgSeq, fromAccount: LastC2CMsgFromAccount, type/payload from LastMsg.MsgBody[0]}, and
 * peerReadTime C2cPeerReadTime. It sets a C2C conversation's unreadCount to 0 whatever UnreadMsgCount says (that field
 * counts for groups): the C2C count comes with openim.getmsg (C2CPairUnreadCount).
 */
function sessionItem(c: C2CConversation): Record<string, unknown> {
  return {
    Type: 1,
    To_Account: c.peer,
    MsgTimeStamp: c.last.time,
    MsgSeq: c.last.seq,
    MsgRandom: c.last.random,
    MsgKey: msgKey(c.last),
    LastC2CMsgFromAccount: c.last.from,
    LastMsg: lastMsg(c.last),
    LastMsgFlags: 0,
    UnreadMsgCount: c.unread,
    C2cPeerReadTime: c.peerReadTime,
    C2cNick: '',
    C2cImage: '',
    TopFlags: 0,
    MsgRecvOption: 0,
  };
}

/** A message of a getroammsg page: as sent, From the sender and To the recipient (no sync-copy swap). */
function roamItem(m: C2CMessage): Record<string, unknown> {
  return c2cItem(m, m.to);
}

/** The conversation commands, bound to the messages service. */
export function conversationCommands(messages: ConversationDeps): ChatCommandTable {
  return {
    // Request {From_Account, TimeStamp, StartIndex, TopTimeStamp, TopStartIndex, OrderType, …}. TimeStamp 0 lists every
    // conversation; a later one (the last reply's, sent again after a reconnect) those with a message since. The reply's
    // cursors come back while CompleteFlag is 0; the last page's TimeStamp is the time of the listing.
    'recentcontact.page_get': chatCommand(
      Type.Object({
        From_Account: Type.Optional(Type.String()),
        TimeStamp: Type.Optional(Time),
        StartIndex: Type.Optional(Type.Integer({ minimum: 0 })),
        TopTimeStamp: Type.Optional(Type.Integer({ minimum: 0 })),
        TopStartIndex: Type.Optional(Type.Integer({ minimum: 0 })),
      }),
      async (s, b) => {
        const now = Math.floor(Date.now() / 1000);
        const since = b.TimeStamp ?? 0;
        const start = Math.min(b.StartIndex ?? 0, Number.MAX_SAFE_INTEGER);
        const list = await withRefusals(REFUSALS, () => messages.conversations(s.sdkAppId, s.userId, { since, offset: start, limit: CONV_PAGE + 1 }));
        const more = list.length > CONV_PAGE;
        const page = list.slice(0, CONV_PAGE);
        return {
          CompleteFlag: more ? 0 : 1,
          TimeStamp: more ? since : now,
          StartIndex: more ? start + page.length : 0,
          // trtcd pins no conversations.
          TopTimeStamp: 0,
          TopStartIndex: 0,
          SessionItem: page.map(sessionItem),
        };
      },
    ),

    // Request {Peer_Account, MaxCnt, LastMsgTime, MsgKey, WithRecalledMsg, GetDirection}: 0 (older) pages back from the
    // newest (LastMsgTime 0) or from the last reply's LastMsgTime + MsgKey; 1 (newer) forward. MsgList oldest first.
    'openim.getroammsg': chatCommand(
      Type.Object({
        Peer_Account: UserId,
        MaxCnt: Type.Optional(Type.Integer({ minimum: 0 })),
        LastMsgTime: Type.Optional(Time),
        MsgKey: Type.Optional(Type.String({ maxLength: 64 })),
        GetDirection: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)])),
        WithRecalledMsg: Type.Optional(Type.Integer()),
      }),
      async (s, b) => {
        const newer = b.GetDirection === 1;
        const limit = b.MaxCnt || ROAM_DEFAULT;
        const time = b.LastMsgTime ?? 0;
        const key = b.MsgKey || undefined;
        const page = await withRefusals(REFUSALS, () =>
          messages.history(s.sdkAppId, s.userId, b.Peer_Account, newer ? { afterTime: time, afterKey: key, limit } : { beforeTime: time, beforeKey: key, limit }),
        );
        const edge = newer ? page.messages.at(-1) : page.messages[0];
        return {
          Complete: page.complete ? 1 : 0,
          MsgCnt: page.messages.length,
          LastMsgTime: edge?.time ?? time,
          MsgKey: edge ? msgKey(edge) : (b.MsgKey ?? ''),
          MsgList: page.messages.map(roamItem),
        };
      },
    ),

    // conversation.setMessageRead on C2C<peer>: {C2CMsgReaded: {Cookie, C2CMsgReadedItem: [{To_Account, LastedMsgTime, Receipt}]}}.
    'openim.msgreaded': chatCommand(
      Type.Object({
        C2CMsgReaded: Type.Object({
          Cookie: Type.Optional(Type.String({ maxLength: 128 })),
          C2CMsgReadedItem: Type.Array(Type.Object({ To_Account: UserId, LastedMsgTime: Type.Optional(Time), Receipt: Type.Optional(Type.Integer()) }), { maxItems: 100 }),
        }),
      }),
      async (s, b) => {
        for (const item of b.C2CMsgReaded.C2CMsgReadedItem) await withRefusals(REFUSALS, () => messages.markRead(s.sdkAppId, s.userId, item.To_Account, item.LastedMsgTime || undefined));
        return {};
      },
    ),

    // {To_Account: [peer, …]} → {ReadTime: [unix s, …]} in the same order: when each peer read what the user sent them.
    'openim.get_peer_read_time': chatCommand(Type.Object({ To_Account: Type.Array(UserId, { maxItems: 100 }) }), async (s, b) => ({
      ReadTime: await messages.peerReadTimes(s.sdkAppId, s.userId, b.To_Account),
    })),
  };
}
