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
 * | blobs               | [blobs, blobId]                       | BlobMeta                  |
 * | blob_chunks         | [blob_chunks, blobId, index]          | Uint8Array (≤ 60 KiB)     |
 * | outbox              | [outbox, mailId]                      | OutboxMail (dev only)     |
 * | feedback            | [feedback, feedbackId]                | Feedback                  |
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
  rate: (bucket: string, subject: string, window: number) => ["rate", bucket, subject, window] as const,
  blob: (blobId: string) => ["blobs", blobId] as const,
  blobChunk: (blobId: string, index: number) => ["blob_chunks", blobId, index] as const,
  blobChunks: (blobId: string) => ["blob_chunks", blobId] as const,
  outboxMail: (mailId: string) => ["outbox", mailId] as const,
  outbox: () => ["outbox"] as const,
  feedback: (id: string) => ["feedback", id] as const,
  feedbackPrefix: () => ["feedback"] as const,
};
