/**
 * The protections between a client's frames and the commands they start (docs/protocol.md#limits):
 * frame rate and size, validation, "hello" first and once, token buckets per user, a bounded
 * queue per socket, and slots per socket and per user for what runs. A refused frame is answered
 * with an error naming it and costs nothing more.
 */
import {
  type ClientFrame,
  CLOSE,
  isFrameError,
  MAX_FRAME_BYTES,
  parseClientFrame,
  PROTOCOL_VERSION,
  type ServerFrame,
} from "../wire/protocol.ts";
import type { Hub } from "./hub.ts";
import { HttpError } from "../errors.ts";
import { log } from "../log.ts";
import { HEAVY_COMMANDS, LIMITS_WS } from "./limits.ts";

/** What the intake needs of its connection (lib/realtime/conn.ts). */
export interface IntakeOwner {
  readonly userId: string;
  readonly ws: WebSocket;
  readonly deps: { hub: Hub; now: () => number };
  /** Whether work for this socket is still worth doing. */
  readonly alive: boolean;
  /** Set once the socket is done for: nothing more is started. */
  readonly closed: boolean;
  send(frame: ServerFrame): void;
  close(code: number, reason: string): void;
}

export class Intake {
  #helloSeen = false;
  /** Commands waiting for a slot, and how many of this socket's run now. */
  #queue: ClientFrame[] = [];
  #running = 0;
  #helloRunning = false;
  #heavyRunning = false;
  #frameCount = 0;
  #frameWindow = 0;
  #badFrames = 0;

  constructor(
    private readonly c: IntakeOwner,
    private readonly run: (frame: ClientFrame) => Promise<void>,
  ) {}

  /** The socket closed: what waits is dropped. */
  clear(): void {
    this.#queue = [];
  }

  /** One frame as it arrived at `now`: checked, then answered (ping), refused or queued. */
  take(data: unknown, now: number): void {
    if (!this.#withinRate(now)) return this.c.close(CLOSE.flood, "Too many frames");
    if (typeof data !== "string") return this.#bad("Binary frames are not accepted");
    // UTF-16 length ≤ bytes ≤ 3 × length: count bytes only when it could matter.
    if (
      data.length > MAX_FRAME_BYTES ||
      (data.length * 3 > MAX_FRAME_BYTES && new TextEncoder().encode(data).length > MAX_FRAME_BYTES)
    ) {
      return this.c.close(CLOSE.frameTooLarge, "Frame too large");
    }
    const frame = parseClientFrame(data);
    if (isFrameError(frame)) return this.#bad(frame.message);
    if (!this.#inOrder(frame)) return;
    if (frame.type === "ping") return this.c.send({ type: "pong", rid: frame.rid });
    if (!this.#withinBuckets(frame)) return;
    if (this.#queue.length >= LIMITS_WS.queuePerSocket) {
      return this.#refuse(frame, "busy", "Too many requests waiting; wait for the answers");
    }
    this.#queue.push(frame);
    this.pump();
  }

  #withinRate(now: number): boolean {
    if (Math.floor(now / 1000) !== this.#frameWindow) {
      this.#frameWindow = Math.floor(now / 1000);
      this.#frameCount = 0;
    }
    return ++this.#frameCount <= LIMITS_WS.framesPerSec;
  }

  /** "hello" comes first, once, with the protocol version; false when the frame was refused. */
  #inOrder(frame: ClientFrame): boolean {
    if (frame.type === "hello") {
      if (this.#helloSeen) return (this.#bad('"hello" was already sent'), false);
      if (frame.v !== PROTOCOL_VERSION) {
        this.c.close(CLOSE.badVersion, `Protocol version ${PROTOCOL_VERSION} is required`);
        return false;
      }
      this.#helloSeen = true;
    } else if (!this.#helloSeen) {
      return (this.#bad('The first frame must be "hello"'), false);
    }
    return true;
  }

  /**
   * Buckets per user (on this isolate): more tabs do not mean a higher rate. Taken on arrival, so
   * a refused command never waits in the queue.
   */
  #withinBuckets(frame: ClientFrame): boolean {
    // Recalls and reactions are messages in the log too: they take from the same bucket.
    if (
      (frame.type === "send" || frame.type === "recall" || frame.type === "react") &&
      !this.#token("send", LIMITS_WS.sendPerSec, LIMITS_WS.sendBurst)
    ) {
      return (this.#refuse(frame, "rate_limited", "Sending too fast; slow down"), false);
    }
    if (
      HEAVY_COMMANDS.has(frame.type) &&
      !this.#token("heavy", LIMITS_WS.heavyPerSec, LIMITS_WS.heavyBurst)
    ) {
      return (this.#refuse(frame, "rate_limited", "Too many requests; slow down"), false);
    }
    return true;
  }

  /**
   * Starts queued commands in arrival order while this socket and the user have free slots. A
   * socket runs one heavy command at a time, started only while little waits to be sent: what it
   * has queued to send stays under LIMITS_WS.heavyMaxBuffered plus one answer (a page of 100 of
   * the longest messages is about 1.6 MB), well under the slow-consumer bound.
   * A slot freed by any of the user's sockets calls this again (Hub.releaseWork).
   */
  pump(): void {
    const hub = this.c.deps.hub;
    while (
      this.#queue.length && this.#running < LIMITS_WS.runPerSocket && !this.c.closed &&
      // hello runs alone: a command sent right behind it needs the state it loads.
      !this.#helloRunning && !(this.#queue[0].type === "hello" && this.#running > 0) &&
      !(this.#heavyRunning && HEAVY_COMMANDS.has(this.#queue[0].type)) &&
      hub.takeWork(this.c.userId, LIMITS_WS.runPerUser)
    ) {
      const frame = this.#queue.shift()!;
      const heavy = HEAVY_COMMANDS.has(frame.type);
      const hello = frame.type === "hello";
      this.#running++;
      if (heavy) this.#heavyRunning = true;
      if (hello) this.#helloRunning = true;
      this.#start(frame).catch((err) => log.error("ws.run_failed", { err })).finally(() => {
        this.#running--;
        if (heavy) this.#heavyRunning = false;
        if (hello) this.#helloRunning = false;
        hub.releaseWork(this.c.userId);
        this.pump();
      });
    }
  }

  async #start(frame: ClientFrame): Promise<void> {
    const c = this.c;
    if (!c.alive) return;
    if (HEAVY_COMMANDS.has(frame.type) && c.ws.bufferedAmount > LIMITS_WS.heavyMaxBuffered) {
      return this.#refuse(frame, "busy", "Earlier answers are still being sent; retry later");
    }
    c.deps.hub.commandStarted(frame.type);
    try {
      await this.run(frame);
    } catch (err) {
      const he = err instanceof HttpError ? err : null;
      if (!he) log.error("ws.frame_failed", { type: frame.type, err });
      this.#refuse(frame, he?.code ?? "internal", he?.message ?? "Internal error");
    } finally {
      c.deps.hub.commandEnded(frame.type);
    }
  }

  #token(kind: string, perSec: number, burst: number): boolean {
    const { hub, now } = this.c.deps;
    return hub.takeToken(`${kind} ${this.c.userId}`, now(), perSec, burst);
  }

  /** Answers one frame with an error naming its rid (and cid for a send). */
  #refuse(frame: ClientFrame, code: string, message: string): void {
    const rid = "rid" in frame ? frame.rid : undefined;
    const cid = frame.type === "send" || frame.type === "react" ? frame.cid : undefined;
    this.c.send({ type: "error", rid, cid, code, message });
  }

  #bad(message: string): void {
    this.c.send({ type: "error", code: "bad_frame", message });
    if (++this.#badFrames >= LIMITS_WS.badFramesBeforeClose) {
      this.c.close(CLOSE.badFrames, "Too many invalid frames");
    }
  }
}
