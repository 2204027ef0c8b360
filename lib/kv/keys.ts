/**
 * The only place that builds Deno KV keys. Every prefix in use:
 *
 * | prefix              | key                                   | value                     |
 * |---------------------|---------------------------------------|---------------------------|
 * | users               | [users, userId]                       | User                      |
 * | users_by_name       | [users_by_name, lowerUsername]        | userId (unique index)     |
 * | users_by_email      | [users_by_email, lowerEmail]          | userId (unique index)     |
 * | sessions            | [sessions, sha256(token)]             | Session                   |
 * | user_sessions       | [user_sessions, userId, sessionId]    | sha256(token)             |
 * | email_tokens        | [email_tokens, sha256(token)]         | EmailToken (single use)   |
 * | mail_cooldown       | [mail_cooldown, purpose, userId]      | sentAt (expires)          |
 * | rate                | [rate, bucket, subject, window]       | count (expires)           |
 * | login_address       | [login_address, userId, addressKey]   | last login from it (expires) |
 * | blobs               | [blobs, blobId]                       | BlobMeta                  |
 * | blob_chunks         | [blob_chunks, blobId, index]          | Uint8Array (≤ 60 KiB)     |
 * | media               | [media, convId, mediaId]              | MediaRecord (image, file) |
 * | media_unsent        | [media_unsent, at, convId, mediaId]   | null (uploads not sent)   |
 * | reminder            | [reminder, dueAt, id]                 | Reminder (the bot's)      |
 * | user_reminder       | [user_reminder, userId, id]           | dueAt (count per user)    |
 * | outbox              | [outbox, mailId]                      | OutboxMail (dev only)     |
 * | feedback            | [feedback, feedbackId]                | Feedback                  |
 * | conv                | [conv, convId]                        | Conversation              |
 * | conv_head           | [conv_head, convId]                   | ConvHead (last seq, preview) |
 * | member              | [member, convId, userId]              | Member                    |
 * | user_conv           | [user_conv, userId, convId]           | UserConv (index)          |
 * | dm_pair             | [dm_pair, userIdA, userIdB] (A < B)   | convId (unique)           |
 * | bot_conv            | [bot_conv, userId]                    | convId                    |
 * | msg                 | [msg, convId, seq]                    | Message                   |
 * | sent                | [sent, convId, senderId]              | SentRecord: the sender's last cids (idempotent retry) |
 * | read                | [read, convId, userId]                | seq read up to            |
 * | isolate             | [isolate, isolateId]                  | IsolateRecord (expires: heartbeat) |
 * | isolate_epoch       | [isolate_epoch]                       | bumped when one starts or stops |
 * | fan_head            | [fan_head, isolateId, lane]           | last entry number (one writer) |
 * | fan                 | [fan, isolateId, lane, n]             | one commit's FanEvents (expire) |
 * | presence            | [presence, userId, isolateId]         | open sockets (expires)    |
 * | last_seen           | [last_seen, userId]                   | ms timestamp              |
 * | users_by_nick       | [users_by_nick, lowerNickname, userId]| true (prefix search)      |
 * | friend              | [friend, userId, friendId]            | Friend (both directions)  |
 * | friend_req          | [friend_req, toId, fromId]            | FriendRequest             |
 * | friend_req_out      | [friend_req_out, fromId, toId]        | FriendRequest (sender's copy) |
 * | friend_cooldown     | [friend_cooldown, fromId, toId]       | until (expires)           |
 * | block               | [block, blockerId, blockedId]         | ms timestamp              |
 * | member_count        | [member_count, convId]                | number (checked at joins) |
 * | groups_by_name      | [groups_by_name, lowerTitle, convId]  | true (public groups only) |
 * | invite              | [invite, sha256(token)]               | Invite                    |
 * | group_invite        | [group_invite, convId, inviteId]      | sha256(token) (listing)   |
 * | join_req            | [join_req, convId, userId]            | JoinRequest               |
 * | bot_token           | [bot_token, sha256(token)]            | botId (lib/bots/bots.ts)  |
 * | owner_bot           | [owner_bot, ownerId, botId]           | true (the owner's bots)   |
 * | owner_bot_count     | [owner_bot_count, ownerId]            | number (checked at create) |
 * | vapid               | [vapid]                               | VapidKeys (lib/push/)     |
 * | push_device         | [push_device, userId, id]             | Device (a push subscription) |
 * | push_count          | [push_count, userId]                  | number of devices         |
 * | conv_mute           | [conv_mute, userId, convId]           | true (免打扰)             |
 */

export const keys = {
  user: (userId: string) => ["users", userId] as const,
  usersPrefix: () => ["users"] as const,
  userByName: (lower: string) => ["users_by_name", lower] as const,
  userByEmail: (lower: string) => ["users_by_email", lower] as const,
  session: (tokenHash: string) => ["sessions", tokenHash] as const,
  userSession: (userId: string, sessionId: string) => ["user_sessions", userId, sessionId] as const,
  userSessions: (userId: string) => ["user_sessions", userId] as const,
  emailToken: (tokenHash: string) => ["email_tokens", tokenHash] as const,
  mailCooldown: (purpose: string, userId: string) => ["mail_cooldown", purpose, userId] as const,
  rate: (bucket: string, subject: string, window: number) =>
    ["rate", bucket, subject, window] as const,
  loginAddress: (userId: string, address: string) => ["login_address", userId, address] as const,
  blob: (blobId: string) => ["blobs", blobId] as const,
  blobChunk: (blobId: string, index: number) => ["blob_chunks", blobId, index] as const,
  blobChunks: (blobId: string) => ["blob_chunks", blobId] as const,
  media: (convId: string, mediaId: string) => ["media", convId, mediaId] as const,
  unsentMedia: (at: number, convId: string, mediaId: string) =>
    ["media_unsent", at, convId, mediaId] as const,
  unsentMedias: () => ["media_unsent"] as const,
  reminder: (at: number, id: string) => ["reminder", at, id] as const,
  reminders: () => ["reminder"] as const,
  userReminder: (userId: string, id: string) => ["user_reminder", userId, id] as const,
  userReminders: (userId: string) => ["user_reminder", userId] as const,
  outboxMail: (mailId: string) => ["outbox", mailId] as const,
  outbox: () => ["outbox"] as const,
  feedback: (id: string) => ["feedback", id] as const,
  feedbackPrefix: () => ["feedback"] as const,
  conv: (convId: string) => ["conv", convId] as const,
  convHead: (convId: string) => ["conv_head", convId] as const,
  member: (convId: string, userId: string) => ["member", convId, userId] as const,
  members: (convId: string) => ["member", convId] as const,
  userConv: (userId: string, convId: string) => ["user_conv", userId, convId] as const,
  userConvs: (userId: string) => ["user_conv", userId] as const,
  dmPair: (a: string, b: string) =>
    (a < b ? ["dm_pair", a, b] : ["dm_pair", b, a]) as readonly string[],
  botConv: (userId: string) => ["bot_conv", userId] as const,
  msg: (convId: string, seq: number) => ["msg", convId, seq] as const,
  msgs: (convId: string) => ["msg", convId] as const,
  sent: (convId: string, senderId: string) => ["sent", convId, senderId] as const,
  read: (convId: string, userId: string) => ["read", convId, userId] as const,
  reads: (convId: string) => ["read", convId] as const,
  isolate: (isolateId: string) => ["isolate", isolateId] as const,
  isolates: () => ["isolate"] as const,
  isolateEpoch: () => ["isolate_epoch"] as const,
  fanHead: (isolateId: string, lane: number) => ["fan_head", isolateId, lane] as const,
  fan: (isolateId: string, lane: number, n: number) => ["fan", isolateId, lane, n] as const,
  fanStream: (isolateId: string, lane: number) => ["fan", isolateId, lane] as const,
  presence: (userId: string, isolateId: string) => ["presence", userId, isolateId] as const,
  presences: (userId: string) => ["presence", userId] as const,
  lastSeen: (userId: string) => ["last_seen", userId] as const,
  userByNick: (lowerNick: string, userId: string) => ["users_by_nick", lowerNick, userId] as const,
  usersByNickPrefix: () => ["users_by_nick"] as const,
  friend: (userId: string, friendId: string) => ["friend", userId, friendId] as const,
  friends: (userId: string) => ["friend", userId] as const,
  friendReq: (toId: string, fromId: string) => ["friend_req", toId, fromId] as const,
  friendReqsTo: (toId: string) => ["friend_req", toId] as const,
  friendReqOut: (fromId: string, toId: string) => ["friend_req_out", fromId, toId] as const,
  friendReqsFrom: (fromId: string) => ["friend_req_out", fromId] as const,
  friendCooldown: (fromId: string, toId: string) => ["friend_cooldown", fromId, toId] as const,
  block: (blockerId: string, blockedId: string) => ["block", blockerId, blockedId] as const,
  blocks: (blockerId: string) => ["block", blockerId] as const,
  memberCount: (convId: string) => ["member_count", convId] as const,
  groupByName: (lowerTitle: string, convId: string) =>
    ["groups_by_name", lowerTitle, convId] as const,
  invite: (tokenHash: string) => ["invite", tokenHash] as const,
  groupInvite: (convId: string, inviteId: string) => ["group_invite", convId, inviteId] as const,
  groupInvites: (convId: string) => ["group_invite", convId] as const,
  joinReq: (convId: string, userId: string) => ["join_req", convId, userId] as const,
  joinReqs: (convId: string) => ["join_req", convId] as const,
  botToken: (tokenHash: string) => ["bot_token", tokenHash] as const,
  ownerBot: (ownerId: string, botId: string) => ["owner_bot", ownerId, botId] as const,
  ownerBots: (ownerId: string) => ["owner_bot", ownerId] as const,
  ownerBotCount: (ownerId: string) => ["owner_bot_count", ownerId] as const,
  vapid: () => ["vapid"] as const,
  pushDevice: (userId: string, id: string) => ["push_device", userId, id] as const,
  pushDevices: (userId: string) => ["push_device", userId] as const,
  pushCount: (userId: string) => ["push_count", userId] as const,
  convMute: (userId: string, convId: string) => ["conv_mute", userId, convId] as const,
  convMutes: (userId: string) => ["conv_mute", userId] as const,
};
