/**
 * The browser's one connection to the server and the chat state every island reads. Owns the
 * WebSocket: hello/resume, reconnect with backoff, pending sends and their retry.
 */
import { computed, effect, signal } from "@preact/signals";
import {
  type Action,
  type ChatState,
  emptyState,
  reduce,
  unreadAll,
} from "../../lib/client/state.ts";
import type { FriendsSnapshot } from "../../lib/wire/api.ts";
import { api } from "../api.ts";
import { showMyName } from "../me_bar.ts";
import {
  type ClientFrame,
  CLOSE,
  PROTOCOL_VERSION,
  type ServerFrame,
  shouldReconnect,
} from "../../lib/wire/protocol.ts";
import type { ConvSummary, Message, UserCard } from "../../lib/wire/protocol.ts";

export type Connection = "connecting" | "online" | "offline" | "ended";

export const state = signal<ChatState>(emptyState());
export const connection = signal<Connection>("connecting");
export const isOnline = computed(() => connection.value === "online");
/** Why a send failed, by client message id (e.g. "muted"), for the failed message's note. */
export const sendErrors = signal<Record<string, string>>({});
/** A message to show in its place once its conversation is open (a search hit). */
export const seekRequest = signal<{ conv: string; seq: number } | null>(null);
/** Why the last recall or reaction was refused (an error code), until the next one. */
export const updateError = signal<string | null>(null);
/** Conversations muted for notifications (免打扰), from GET /api/push. */
export const mutedConvs = signal<Set<string>>(new Set());

/** Loads the muted conversations (once per page: toggles keep it current). */
async function loadMuted(): Promise<void> {
  const r = await api<{ muted: string[] }>("GET", "/api/push");
  if (r.ok) {
    mutedConvs.value = new Set(r.data.muted);
    mutedKnown.value = true;
  }
}

/** Mutes or unmutes notifications of a conversation on every device of this user. */
export async function setConvMuted(conv: string, muted: boolean): Promise<boolean> {
  const r = await api(muted ? "PUT" : "DELETE", `/api/push/mutes/${conv}`);
  if (!r.ok) return false;
  const next = new Set(mutedConvs.value);
  if (muted) next.add(conv);
  else next.delete(conv);
  mutedConvs.value = next;
  return true;
}

/**
 * A message for this user while the tab is hidden: a system notification, if the user allowed
 * them and the conversation is not muted (a closed tab gets a Web Push instead: static/sw).
 */
function notifyHidden(m: Message): void {
  if (
    document.visibilityState !== "hidden" || typeof Notification === "undefined" ||
    Notification.permission !== "granted" || m.from === state.value.me?.id ||
    m.kind !== "text" || mutedConvs.value.has(m.conv)
  ) return;
  const s = state.value;
  const c = s.convs[m.conv];
  if (!c) return;
  const who = s.friends[m.from]?.remark || s.users[m.from]?.nickname || "";
  const title = c.summary.kind === "group" ? c.summary.title : who;
  const n = new Notification(title || document.title, {
    body: c.summary.kind === "group" ? `${who}: ${m.text}` : m.text || "…",
    tag: m.conv,
  });
  n.onclick = () => {
    focus();
    location.assign(`/?c=${m.conv}`);
  };
}

const ACK_TIMEOUT_MS = 10_000;
/** Sockets a message is tried on before it shows "Not sent · Retry". */
const ACK_MISSES_MAX = 3;
const ackMisses = new Map<string, number>();
const PING_EVERY_MS = 25_000;

let ws: WebSocket | null = null;
let attempt = 0;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
let pingTimer: ReturnType<typeof setInterval> | undefined;
let resumed = false;
const ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
const listeners = new Set<(f: ServerFrame) => void>();

export function dispatch(a: Action): void {
  state.value = reduce(state.value, a);
}

/** Whether the state holds all the user's conversations (a welcome, or a seed of them all). */
const allConvs = signal(false);
/** Whether the muted conversations were loaded (GET /api/push). */
const mutedKnown = signal(false);

/**
 * The page's server-rendered badges, derived from the state: friend requests waiting (on
 * "Contacts" in the header and the tab bar) and unread messages (on the "Chats" tab). Null while
 * the state cannot say: until it holds every conversation and knows which are muted, the server's
 * count stands (a page seeded with its groups only would otherwise show too few for a moment, or
 * too many).
 */
const requestsShown = computed(() =>
  state.value.friendsLoaded ? state.value.requests.length : null
);
const unreadShown = computed(() =>
  state.value.me && allConvs.value && mutedKnown.value
    ? unreadAll(state.value, mutedConvs.value)
    : null
);

function showBadge(name: "requests" | "unread", n: number): void {
  for (const el of document.querySelectorAll<HTMLElement>(`[data-badge="${name}"]`)) {
    if (el.dataset.n === String(n)) continue;
    el.dataset.n = String(n);
    el.textContent = n ? (n > 99 ? "99+" : String(n)) : "";
    el.hidden = !n;
  }
  // The words a screen reader hears for it (components/Layout.tsx Badge).
  for (const el of document.querySelectorAll<HTMLElement>(`[data-badge-words="${name}"]`)) {
    el.textContent = n ? (el.dataset.words ?? "").replace("{n}", String(n)) : "";
  }
}

/** Seeds friends and requests from the page's server-rendered props. */
export function seedFriends(snap: FriendsSnapshot): void {
  if (!state.value.friendsLoaded) dispatch({ type: "local_friends", ...snap });
}

const FRIEND_FRAMES = new Set([
  "friend",
  "friend_removed",
  "friend_request",
  "friend_request_gone",
  "blocked",
]);
let friendsQueue: ServerFrame[] | null = null;

/**
 * Fetches friends, requests and blocks (after every welcome: frames missed while offline are not
 * replayed). Friend frames that arrive meanwhile are applied again on top of the answer.
 */
export async function loadFriends(): Promise<void> {
  if (friendsQueue) return;
  friendsQueue = [];
  try {
    // Offline or refused: the next welcome loads again.
    const r = await api<FriendsSnapshot>("GET", "/api/friends");
    if (r.ok) {
      dispatch({ type: "local_friends", ...r.data });
      for (const f of friendsQueue) dispatch(f);
    }
  } finally {
    friendsQueue = null;
  }
}

/**
 * Seeds the state from the page's server-rendered props, before the socket connects: all the
 * user's conversations (the chat screen), or only some (`all` false: the groups in Contacts).
 */
export function seed(me: UserCard, convs: ConvSummary[], all = true): void {
  if (state.value.me) return;
  if (all) allConvs.value = true;
  dispatch({ type: "welcome", v: PROTOCOL_VERSION, me, convs, isolate: "" });
}

/** Calls `f` for every frame from the server (views use it for scroll decisions). */
export function onFrame(f: (frame: ServerFrame) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

function raw(frame: ClientFrame): boolean {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

/** The last seq this tab holds per conversation: the server replays what came after. */
function resumePoints(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, c] of Object.entries(state.value.convs)) {
    const last = c.messages[c.messages.length - 1]?.seq ?? 0;
    out[id] = c.loaded ? last : c.summary.lastSeq;
  }
  return out;
}

/**
 * The IANA zone of this browser. Temporal answers at once; Intl.DateTimeFormat is the fallback
 * (WebKit), and it is the page's first Intl call, which loads ICU data: some 45 ms of main thread
 * that would otherwise land inside the socket's first task on every page load.
 */
function timeZone(): string {
  const temporal = (globalThis as { Temporal?: { Now: { timeZoneId(): string } } }).Temporal;
  return temporal?.Now.timeZoneId() ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function connect(): void {
  if (ws) return;
  connection.value = "connecting";
  resumed = false;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  const sock = new WebSocket(url);
  ws = sock;
  sock.onopen = () => {
    sock.send(
      JSON.stringify({
        type: "hello",
        v: PROTOCOL_VERSION,
        resume: state.value.me ? resumePoints() : undefined,
        // For the bot's times ("几点了", reminders): the zone this browser is in.
        tz: timeZone(),
      }),
    );
    clearInterval(pingTimer);
    pingTimer = setInterval(() => raw({ type: "ping" }), PING_EVERY_MS);
  };
  sock.onmessage = (e) => onServerFrame(JSON.parse(e.data) as ServerFrame);
  sock.onclose = (e) => {
    if (ws !== sock) return;
    ws = null;
    clearInterval(pingTimer);
    if (e.code === CLOSE.unauthorized) {
      connection.value = "ended";
      location.assign("/login");
      return;
    }
    if (!shouldReconnect(e.code)) {
      connection.value = "ended";
      return;
    }
    connection.value = "offline";
    scheduleReconnect();
  };
}

function scheduleReconnect(): void {
  clearTimeout(reconnectTimer);
  const base = Math.min(15_000, 500 * 2 ** attempt);
  attempt++;
  reconnectTimer = setTimeout(connect, base / 2 + Math.random() * base / 2);
}

/** Reconnects at once (e.g. when the network comes back or the tab becomes visible). */
export function reconnectNow(): void {
  if (connection.value === "ended" || connection.value === "online") return;
  // A socket still trying from before the network came back would wait out its own timeout.
  const stale = ws;
  ws = null;
  stale?.close();
  attempt = 0;
  clearTimeout(reconnectTimer);
  connect();
}

/** For tests and the UI's "offline" simulation: drops the socket; it reconnects by itself. */
export function dropConnection(): void {
  ws?.close();
}

/**
 * The device lost its network: say so at once and stop using the socket, instead of waiting
 * for it to time out (the server's close frame cannot arrive). "online" reconnects.
 */
function networkGone(): void {
  const sock = ws;
  if (!sock || connection.value === "ended") return;
  ws = null;
  clearInterval(pingTimer);
  sock.close();
  connection.value = "offline";
  scheduleReconnect();
}

let mutedLoaded = false;

function onServerFrame(f: ServerFrame): void {
  if (f.type === "ack") {
    clearTimeout(ackTimers.get(f.cid));
    ackTimers.delete(f.cid);
    ackMisses.delete(f.cid);
  }
  if (f.type === "error" && f.cid) {
    clearTimeout(ackTimers.get(f.cid));
    ackTimers.delete(f.cid);
    const conv = Object.values(state.value.convs).find((c) =>
      c.pending.some((p) => p.cid === f.cid)
    );
    if (conv) dispatch({ type: "local_failed", conv: conv.summary.id, cid: f.cid });
    sendErrors.value = { ...sendErrors.value, [f.cid]: f.code };
  }
  if (f.type !== "pong" && f.type !== "error" && f.type !== "resumed") dispatch(f);
  if (f.type === "welcome") allConvs.value = true;
  if (friendsQueue && FRIEND_FRAMES.has(f.type)) friendsQueue.push(f);
  if (f.type === "welcome") loadFriends();
  if (f.type === "welcome" && !mutedLoaded) {
    mutedLoaded = true;
    loadMuted();
  }
  if (f.type === "msg" && resumed) notifyHidden(f.msg);
  if (f.type === "profile" && f.user.id === state.value.me?.id) showMyName(f.user.nickname);
  if (f.type === "gap") loadHistory(f.conv, true);
  if (f.type === "resumed") {
    resumed = true;
    attempt = 0;
    connection.value = "online";
    flushPending();
  }
  for (const l of listeners) l(f);
}

function sendPending(
  conv: string,
  cid: string,
  text: string,
  reply?: number,
  media?: string,
  mentions?: string[],
): void {
  const frame = {
    type: "send" as const,
    conv,
    cid,
    text,
    ...(reply ? { reply } : {}),
    ...(mentions?.length ? { mentions } : {}),
  };
  if (!resumed || !raw(media ? { ...frame, media } : frame)) return;
  clearTimeout(ackTimers.get(cid));
  const sock = ws;
  ackTimers.set(
    cid,
    setTimeout(() => {
      ackTimers.delete(cid);
      const misses = (ackMisses.get(cid) ?? 0) + 1;
      ackMisses.set(cid, misses);
      // No ack in time: the socket is most likely dead (a network that went away without a word).
      // The message stays pending and goes again, same cid, once a new socket has resumed; only
      // a message that never gets an ack over several sockets is shown as not sent.
      if (misses >= ACK_MISSES_MAX) dispatch({ type: "local_failed", conv, cid });
      if (sock && ws === sock) networkGone();
    }, ACK_TIMEOUT_MS),
  );
}

/** Sends every pending message again after a reconnect (same cid: the server stores each once). */
function flushPending(): void {
  for (const c of Object.values(state.value.convs)) {
    for (const p of c.pending) {
      // A picture or file still uploading is sent when its upload is done.
      if (p.state === "pending" && (!p.media || p.media.id)) {
        sendPending(c.summary.id, p.cid, p.text, p.reply, p.media?.id, p.mentions);
      }
    }
  }
}

function newCid(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Sends a message: shown at once as pending, then sent (or sent when the connection is back). */
export function sendMessage(
  conv: string,
  text: string,
  reply?: number,
  mentions?: string[],
): void {
  const body = text.trim();
  if (!body) return;
  const cid = newCid();
  const called = mentions?.length ? mentions : undefined;
  dispatch({ type: "local_send", conv, cid, text: body, at: Date.now(), reply, mentions: called });
  sendPending(conv, cid, body, reply, undefined, called);
}

let requestRid = 0;
/**
 * Sends a command with a fresh rid and resolves with its answer of type `type` or its error
 * (code "offline" when it could not be sent).
 */
function request<T extends ServerFrame["type"]>(
  frame: Record<string, unknown> & { type: ClientFrame["type"] },
  type: T,
): Promise<Extract<ServerFrame, { type: T }> | { type: "error"; code: string }> {
  const rid = `r${++requestRid}`;
  if (!raw({ ...frame, rid } as ClientFrame)) {
    return Promise.resolve({ type: "error", code: "offline" });
  }
  return new Promise((resolve) => {
    const off = onFrame((f) => {
      if ((f.type !== type && f.type !== "error") || !("rid" in f) || f.rid !== rid) return;
      off();
      resolve(f as Extract<ServerFrame, { type: T }> | { type: "error"; code: string });
    });
  });
}

/** Sends a recall or a reaction; a refusal is shown through `updateError`. */
async function sendUpdate(
  frame: { type: "recall"; conv: string; seq: number } | {
    type: "react";
    conv: string;
    seq: number;
    emoji: string;
    on: boolean;
  },
): Promise<void> {
  updateError.value = null;
  const answer = await request(
    frame.type === "react" ? { ...frame, cid: newCid() } : frame,
    "ack",
  );
  if (answer.type === "error") updateError.value = answer.code;
}

/** Asks the server for messages with the words of `q`: in one conversation, or in all. */
export async function searchMessages(
  q: string,
  conv?: string,
  before?: number,
): Promise<{ hits: Message[]; next?: number } | { error: string }> {
  const answer = await request({
    type: "search",
    q,
    ...(conv ? { conv } : {}),
    ...(before !== undefined ? { before } : {}),
  }, "search");
  return answer.type === "search" ? { hits: answer.hits, next: answer.next } : {
    error: answer.code,
  };
}

/** Takes back a message (the server says whether it may: its sender within 2 minutes, admins). */
export function recallMessage(conv: string, seq: number): void {
  sendUpdate({ type: "recall", conv, seq });
}

/** Adds or takes back this user's reaction on a message. */
export function react(conv: string, seq: number, emoji: string, on: boolean): void {
  sendUpdate({ type: "react", conv, seq, emoji, on });
}

export function retry(conv: string, cid: string): void {
  const p = state.value.convs[conv]?.pending.find((x) => x.cid === cid);
  if (!p) return;
  dispatch({ type: "local_retry", conv, cid });
  if (p.media && !p.media.id) upload(conv, cid);
  else sendPending(conv, cid, p.text, p.reply, p.media?.id, p.mentions);
}

/** Files chosen for pending messages, kept until sent (a failed upload can be tried again). */
const files = new Map<string, File>();

/** Sends a picture (shrunk first when large) or any file, with an optional caption. */
export function sendFile(conv: string, file: File, caption = ""): void {
  const kind = /^image\/(jpeg|png|gif|webp)$/.test(file.type) ? "image" : "file";
  const cid = newCid();
  files.set(cid, file);
  dispatch({
    type: "local_send",
    conv,
    cid,
    text: caption.trim(),
    at: Date.now(),
    media: {
      kind,
      name: file.name || (kind === "image" ? "image" : "file"),
      size: file.size,
      preview: kind === "image" ? URL.createObjectURL(file) : undefined,
      progress: 0,
    },
  });
  upload(conv, cid);
}

/** The longest side a picture is sent with; larger photos are shrunk in the browser first. */
const SEND_SIDE = 2048;

/** A large photo made smaller before upload (upright, at most SEND_SIDE); others as they are. */
async function shrink(file: File): Promise<Blob> {
  if (file.type === "image/gif" || typeof createImageBitmap === "undefined") return file;
  try {
    const bmp = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, SEND_SIDE / Math.max(bmp.width, bmp.height));
    if (scale === 1 && file.size <= 2 * 1024 * 1024) return file;
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bmp.width * scale);
    canvas.height = Math.round(bmp.height * scale);
    canvas.getContext("2d")!.drawImage(bmp, 0, 0, canvas.width, canvas.height);
    const type = file.type === "image/jpeg" ? "image/jpeg" : "image/webp";
    const out = await new Promise<Blob | null>((r) => canvas.toBlob(r, type, 0.85));
    return out && out.size < file.size ? out : file;
  } catch {
    return file;
  }
}

/** Uploads a pending message's file with progress, then sends the message that carries it. */
async function upload(conv: string, cid: string): Promise<void> {
  const file = files.get(cid);
  const p = state.value.convs[conv]?.pending.find((x) => x.cid === cid);
  if (!file || !p?.media) return;
  const body = p.media.kind === "image" ? await shrink(file) : file;
  const fail = (code: string) => {
    sendErrors.value = { ...sendErrors.value, [cid]: code };
    dispatch({ type: "local_failed", conv, cid });
  };
  const xhr = new XMLHttpRequest();
  xhr.open(
    "POST",
    `/api/convs/${conv}/media?kind=${p.media.kind}&name=${encodeURIComponent(p.media.name)}`,
  );
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) {
      dispatch({ type: "local_media", conv, cid, progress: e.loaded / e.total });
    }
  };
  xhr.onload = () => {
    let answer: { id?: string; error?: { code: string } } = {};
    try {
      answer = JSON.parse(xhr.responseText);
    } catch { /* not JSON: a proxy's page */ }
    if (xhr.status !== 201 || !answer.id) return fail(answer.error?.code ?? "internal");
    dispatch({ type: "local_media", conv, cid, progress: 1, id: answer.id });
    files.delete(cid);
    const now = state.value.convs[conv]?.pending.find((x) => x.cid === cid);
    if (now) sendPending(conv, cid, now.text, now.reply, answer.id);
  };
  xhr.onerror = () => fail("offline");
  xhr.send(body);
}

const loading = new Set<string>();
let historyRid = 0;
/** Loads the newest page (first open, or after a gap) or the page before what is loaded. */
export function loadHistory(conv: string, newest = false, attempt = 0): boolean {
  const c = state.value.convs[conv];
  if (!c || loading.has(conv)) return false;
  if (!newest && c.loaded && !c.hasMore) return false;
  const before = newest || !c.loaded ? undefined : c.messages[0]?.seq;
  const rid = `h${++historyRid}`;
  if (!raw({ type: "history", rid, conv, before, limit: 30 })) return false;
  loading.add(conv);
  const sock = ws;
  const done = () => {
    loading.delete(conv);
    offFrame();
    sock?.removeEventListener("close", done);
  };
  const offFrame = onFrame((f) => {
    if ((f.type !== "history" && f.type !== "error") || f.rid !== rid) return;
    done();
    // The server had too much to do for this user (or this tab) right then: ask again shortly.
    if (f.type === "error" && (f.code === "busy" || f.code === "rate_limited") && attempt < 5) {
      setTimeout(() => loadHistory(conv, newest, attempt + 1), 500 * 2 ** attempt);
    }
  });
  // A socket that drops before the answer never sends it: the next call may ask again.
  sock?.addEventListener("close", done);
  return true;
}

/** Read marks waiting for their debounce, by conversation. */
const pendingReads = new Map<string, { seq: number; timer: ReturnType<typeof setTimeout> }>();

/** Marks a conversation read up to its newest message (debounced). */
export function markRead(conv: string): void {
  const c = state.value.convs[conv];
  if (!c || c.summary.readSeq >= c.summary.lastSeq) return;
  const seq = c.summary.lastSeq;
  dispatch({ type: "local_read", conv, seq });
  clearTimeout(pendingReads.get(conv)?.timer);
  pendingReads.set(conv, { seq, timer: setTimeout(() => sendRead(conv), 250) });
}

function sendRead(conv: string): void {
  const p = pendingReads.get(conv);
  if (!p) return;
  clearTimeout(p.timer);
  pendingReads.delete(conv);
  raw({ type: "read", conv, seq: p.seq });
}

/**
 * Sends the read marks still waiting, at once: the page is going away (a tap on another tab, a
 * link) or out of sight, and a mark left to its timer would be lost with the page.
 */
function flushReads(): void {
  for (const conv of [...pendingReads.keys()]) sendRead(conv);
}

let typingAt = 0;
export function notifyTyping(conv: string): void {
  const now = Date.now();
  if (now - typingAt < 3000) return;
  typingAt = now;
  raw({ type: "typing", conv });
}

export function requestReceipts(conv: string): void {
  raw({ type: "receipts", conv });
}

export function requestMembers(conv: string): void {
  raw({ type: "members", conv });
}

if (typeof window !== "undefined") {
  setInterval(() => dispatch({ type: "typing_expire", now: Date.now() }), 1000);
  addEventListener("online", reconnectNow);
  addEventListener("offline", networkGone);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
    else flushReads();
  });
  addEventListener("pagehide", flushReads);
  // The badges change in the page only when their count does.
  effect(() => {
    if (requestsShown.value !== null) showBadge("requests", requestsShown.value);
  });
  effect(() => {
    if (unreadShown.value !== null) showBadge("unread", unreadShown.value);
  });
}
