/**
 * The limits of one WebSocket connection and of one user's sockets on an isolate
 * (docs/protocol.md#limits). Mutable so that tests can shrink them; the server never changes them.
 */
export const LIMITS_WS = {
  /** Bytes the socket may have queued before it is closed as a slow consumer. */
  maxBuffered: 4 * 1024 * 1024,
  /** Messages waiting for in-order delivery before the socket is closed as a slow consumer. */
  maxBacklog: 5000,
  /** No frame from the client for this long closes the socket (4001). */
  idleMs: 75_000,
  /** How often open sockets are checked for idleness and for an upgrade that never opened. */
  sweepMs: 5000,
  /** A socket still not open this long after its upgrade request is forgotten. */
  openDeadlineMs: 10_000,
  /**
   * Deno's `idleTimeout` in seconds: after half of it with nothing received, Deno sends a ping;
   * after the other half with still nothing received, it closes with 1001. Any frame counts.
   */
  pingIdleSec: 30,
  /** Sends per user: a token bucket shared by their sockets on this isolate. */
  sendPerSec: 10,
  sendBurst: 30,
  /** history, sync, receipts and members per user, the same way. */
  heavyPerSec: 10,
  heavyBurst: 30,
  framesPerSec: 60,
  badFramesBeforeClose: 20,
  typingEveryMs: 3000,
  /** Commands one socket runs at once; the next ones wait in its queue. */
  runPerSocket: 4,
  /** Commands one user runs at once over all their sockets on this isolate. */
  runPerUser: 8,
  /** Commands waiting in one socket's queue; one more is answered `busy`. */
  queuePerSocket: 32,
  /** history, sync, receipts and members do not start while more than this waits to be sent. */
  heavyMaxBuffered: 1024 * 1024,
  /**
   * A closing socket waits until the client has sent nothing for this long before the close
   * frame goes out: Deno drops the connection (and the close frame) on the next data frame
   * after close(), so closing in the middle of a burst reaches the client as 1006.
   */
  closeQuietMs: 100,
  /** ...but never longer than this after deciding to close. */
  closeWaitMaxMs: 1000,
  /**
   * A socket still not closed this long after its close frame was queued (a client that stopped
   * reading keeps it in CLOSING for good) has its TCP connection cut by the connection guard.
   */
  releaseAfterMs: 5000,
};

/** The commands that read a lot and send big answers. */
export const HEAVY_COMMANDS: ReadonlySet<string> = new Set([
  "history",
  "search",
  "sync",
  "receipts",
  "members",
]);
