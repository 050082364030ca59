import type { MessengerApi } from './api.js';
import type { ClientFrame, GroupRole, ServerFrame } from './types.js';

/**
 * A socket request over REST: what a long-polling client does with every request, so that the client's
 * logic is the same on both transports. The answer is the frame the socket would have brought.
 */
export async function requestOverRest(api: MessengerApi, frame: ClientFrame): Promise<ServerFrame> {
  switch (frame.type) {
    case 'send':
      return { type: 'ack', ...(await api.send(frame.conversationId, frame.clientMsgId, frame.text)) };
    case 'sync':
      return { type: 'sync_result', ...(await api.sync(Number(frame.after ?? 0), numberOrUndefined(frame.limit))) };
    case 'history':
      return {
        type: 'history_result',
        ...(await api.history(frame.conversationId, {
          before: numberOrUndefined(frame.before), after: numberOrUndefined(frame.after), limit: numberOrUndefined(frame.limit),
        })),
      };
    case 'read':
      return { type: 'read_result', ...(await api.markRead(frame.conversationId, Number(frame.seq))) };
    case 'presence_query':
      return { type: 'presence_result', users: await api.presence(frame.userIds) };
    case 'presence_subscribe':
      return { type: 'presence_result', users: await api.subscribePollPresence(frame.userIds) };
    case 'typing':
      await api.typing(frame.conversationId);
      return { type: 'typing_result' };
    case 'group_create':
      return { type: 'group_result', ...(await api.createGroup(frame.title, frame.userIds)) };
    case 'group_add':
      return { type: 'group_result', ...(await api.addMembers(frame.conversationId, frame.userIds)) };
    case 'group_remove':
      return { type: 'group_result', ...(await api.removeMember(frame.conversationId, frame.userId)) };
    case 'group_leave':
      return { type: 'group_result', ...(await api.leaveGroup(frame.conversationId)) };
    case 'group_rename':
      return { type: 'group_result', ...(await api.renameGroup(frame.conversationId, frame.title)) };
    case 'group_role':
      return { type: 'group_result', ...(await api.setRole(frame.conversationId, frame.userId, frame.role as GroupRole)) };
    case 'mute':
      return { type: 'mute_result', ...(frame.muted ? await api.mute(frame.conversationId, frame.until) : await api.unmute(frame.conversationId)) };
    case 'ping':
      await api.me();
      return { type: 'pong' };
  }
}

function numberOrUndefined(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}
