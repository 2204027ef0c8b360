/**
 * Outgoing requests (webhooks, the language model) that cannot reach private networks: private,
 * loopback and link-local addresses are refused unless the operator allows them (OUTBOUND_ALLOW),
 * and every redirect's target is checked again.
 *
 * The address checked is the address connected to (no DNS rebinding): each hop goes out through
 * `node:http`/`node:https` `request()` with a `lookup` that answers with the address
 * `resolveChecked` approved, so nothing resolves the name a second time. TLS still verifies the
 * certificate against the URL's host name. Measured in Deno 2.9.6: that `request()` calls
 * `lookup` (with `all: true`) and connects to what it returns; https through it sends SNI for the
 * URL's host and fails on a certificate for another name or an untrusted one
 * (outbound_test.ts pins a name only the test's DNS server knows, over http and https).
 * Not `fetch()`: the one way to choose its socket, `Deno.createHttpClient({ proxy: { transport:
 * "tcp" } })`, sends an https request in plain text (`GET https://host/... HTTP/1.1`, no TLS) to
 * that socket, which would put the body and the signature on the wire unencrypted.
 */
import http from "node:http";
import https from "node:https";
import { log } from "../log.ts";
import {
  type Cidr,
  contains,
  type Ip,
  isPublicAddress,
  isPublicIp,
  parseCidr,
  parseIp,
} from "./addresses.ts";

export { isPublicAddress };

/** What the operator allows despite being private, and where names are resolved. */
export interface OutboundPolicy {
  /** Exact host names ("localhost"), IP addresses or CIDR ranges ("10.0.0.0/8", "fd00::/8"). */
  allow: string[];
  /** The DNS server to ask instead of the system's (tests run one on loopback). */
  nameServer?: { ipAddr: string; port: number };
}

/** Why an outgoing request was refused before (or instead of) being sent. */
export type RefusalReason =
  | "scheme"
  | "private_address"
  | "no_address"
  | "too_many_redirects"
  | "bad_url"
  | "credentials_in_url";

/** An outgoing request the guard refused; `hop` is the redirects followed first (0: none sent). */
export class OutboundRefused extends Error {
  override name = "OutboundRefused";
  constructor(readonly reason: RefusalReason, message: string, readonly hop = 0) {
    super(message);
  }
}

const LABEL = "[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?";
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

/** Parses OUTBOUND_ALLOW: host names, IPs and CIDRs, separated by commas or spaces. */
export function parseAllow(s: string | undefined): string[] {
  const out: string[] = [];
  for (const entry of (s ?? "").split(/[\s,]+/).filter(Boolean)) {
    const e = entry.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
    const numeric = /(^|\.)(\d+|0x[0-9a-f]*)$/.test(e); // "127.1" is an address, not a name
    if (parseCidr(e) || (!e.includes("/") && !numeric && HOSTNAME.test(e))) out.push(e);
    else {
      throw new Error(
        `Invalid outbound allow entry "${entry}": expected a host name, an IP address or a CIDR range such as "10.0.0.0/8"`,
      );
    }
  }
  return out;
}

/** The allow list as names and ranges; an entry that is no range counts as a name. */
function compileAllow(allow: string[]): { hosts: Set<string>; nets: Cidr[] } {
  const hosts = new Set<string>();
  const nets: Cidr[] = [];
  for (const raw of allow) {
    const e = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
    const c = parseCidr(e);
    if (c) nets.push(c);
    else hosts.add(e);
  }
  return { hosts, nets };
}

function allowedAddress(nets: Cidr[], ip: Ip): boolean {
  const mapped = ip.v6 && ip.n >> 32n === 0xffffn ? { v6: false, n: ip.n & 0xffffffffn } : null;
  return nets.some((c) => contains(c, ip) || (mapped !== null && contains(c, mapped)));
}

/** The A and AAAA records of `name` (a failure of either counts as none). */
async function lookupAll(name: string, policy: OutboundPolicy, signal?: AbortSignal) {
  if (name === "localhost" || name.endsWith(".localhost")) return ["127.0.0.1", "::1"]; // RFC 6761
  const opts: Deno.ResolveDnsOptions = { signal };
  if (policy.nameServer) opts.nameServer = policy.nameServer;
  const one = (type: "A" | "AAAA") =>
    Deno.resolveDns(name, type, opts).catch((err): string[] => {
      if (signal?.aborted) throw signal.reason;
      log.debug("outbound.dns_failed", { name, type, err });
      return [];
    });
  const [a, aaaa] = await Promise.all([one("A"), one("AAAA")]);
  return [...a, ...aaaa];
}

/**
 * Checks `url` and returns the address to connect to: http(s) only, no credentials, and every
 * address the host resolves to public unless allowed by name, address or range.
 */
export async function resolveChecked(
  url: URL,
  policy: OutboundPolicy,
  opts: { signal?: AbortSignal } = {},
): Promise<string> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutboundRefused("scheme", `Cannot fetch "${url.protocol}" URLs: only http and https`);
  }
  if (url.username || url.password) {
    throw new OutboundRefused("credentials_in_url", "Cannot fetch a URL with credentials in it");
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  const { hosts, nets } = compileAllow(policy.allow);
  const refuse = (addr: string) =>
    new OutboundRefused("private_address", `Host "${host}" is the private address "${addr}"`);
  const literal = parseIp(host);
  if (literal) {
    if (!isPublicIp(literal) && !allowedAddress(nets, literal) && !hosts.has(host)) {
      throw refuse(host);
    }
    return host;
  }
  const addrs = await lookupAll(host, policy, opts.signal);
  if (!addrs.length) throw new OutboundRefused("no_address", `Host "${host}" has no address`);
  if (!hosts.has(host)) {
    for (const addr of addrs) {
      const ip = parseIp(addr);
      if (!ip || (!isPublicIp(ip) && !allowedAddress(nets, ip))) throw refuse(addr);
    }
  }
  return addrs[0];
}

/** `RequestInit` with a total timeout for the whole exchange, redirects and body included. */
export type GuardedInit = RequestInit & { timeoutMs?: number };

/** Options of `guardedFetch`. */
export interface GuardedFetchOptions {
  /** Redirects followed before refusing with "too_many_redirects" (default 3). */
  maxRedirects?: number;
  /** Trusted root certificates (PEM) instead of the system's: tests and private CAs. */
  caCerts?: string[];
}

interface Outgoing {
  method: string;
  headers: Headers;
  body: Uint8Array | null;
  signal: AbortSignal;
  ca?: string[];
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language"];

/**
 * `fetch` under the outbound policy: every hop is checked, then connected to at the checked
 * address; redirects are followed by hand (303, and 301/302 after a POST, become a GET without
 * body); cookies are never sent. Throws OutboundRefused, the signal's reason, or a TypeError.
 */
export async function guardedFetch(
  url: string | URL,
  init: GuardedInit,
  policy: OutboundPolicy,
  opts: GuardedFetchOptions = {},
): Promise<Response> {
  const timeout = AbortSignal.timeout(init.timeoutMs ?? 10_000);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  let target = toUrl(url);
  const headers = new Headers(init.headers);
  for (const h of ["cookie", "host", "accept-encoding", "transfer-encoding"]) headers.delete(h);
  if (!headers.has("user-agent")) headers.set("user-agent", "HappyChat/1");
  const req: Outgoing = {
    method: (init.method ?? "GET").toUpperCase(),
    headers,
    body: await bodyBytes(init, headers),
    signal,
    ca: opts.caCerts,
  };
  const max = opts.maxRedirects ?? 3;
  for (let hop = 0;; hop++) {
    const address = await resolveChecked(target, policy, { signal }).catch((e) => {
      throw e instanceof OutboundRefused && hop ? new OutboundRefused(e.reason, e.message, hop) : e;
    });
    const res = await send(target, address, req);
    const location = res.headers.get("location");
    if (!REDIRECTS.has(res.status) || location === null || init.redirect === "manual") {
      Object.defineProperties(res, { url: { value: target.href }, redirected: { value: hop > 0 } });
      return res;
    }
    await res.body?.cancel();
    if (init.redirect === "error") throw new TypeError(`Redirected to "${location}"`);
    if (hop >= max) {
      throw new OutboundRefused("too_many_redirects", `More than ${max} redirects`, hop + 1);
    }
    const next = toUrl(location, target, hop + 1);
    if (res.status === 303 ? req.method !== "HEAD" : res.status < 303 && req.method === "POST") {
      req.method = "GET";
      req.body = null;
      for (const h of BODY_HEADERS) headers.delete(h);
    }
    if (next.origin !== target.origin) headers.delete("authorization");
    target = next;
  }
}

function toUrl(url: string | URL, base?: URL, hop = 0): URL {
  try {
    return new URL(url, base);
  } catch {
    throw new OutboundRefused("bad_url", `Invalid URL "${String(url).slice(0, 200)}"`, hop);
  }
}

/** The body as bytes (kept for a 307/308), its content type added as fetch would. */
async function bodyBytes(init: RequestInit, headers: Headers): Promise<Uint8Array | null> {
  const method = (init.method ?? "GET").toUpperCase();
  if (init.body == null) {
    if (!["GET", "HEAD", "DELETE", "OPTIONS"].includes(method)) return new Uint8Array(0);
    return null;
  }
  if (method === "GET" || method === "HEAD") {
    throw new TypeError(`A ${method} request cannot have a body`);
  }
  const r = new Response(init.body);
  const type = r.headers.get("content-type");
  if (type && !headers.has("content-type")) headers.set("content-type", type);
  return new Uint8Array(await r.arrayBuffer());
}

/** One request to `address`, the URL's name still used for Host, SNI and the certificate. */
function send(target: URL, address: string, req: Outgoing): Promise<Response> {
  const { signal } = req;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const headers = Object.fromEntries(req.headers);
    headers.host = target.host;
    if (req.body) headers["content-length"] = String(req.body.byteLength);
    const family = address.includes(":") ? 6 : 4;
    const onAbort = () => r.destroy(signal.reason);
    const settle = () => signal.removeEventListener("abort", onAbort);
    const r = (target.protocol === "https:" ? https : http).request({
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: target.port || undefined,
      path: target.pathname + target.search,
      method: req.method,
      headers,
      agent: false,
      ...(req.ca ? { ca: req.ca } : {}),
      lookup: ((_name: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
        o?.all ? cb(null, [{ address, family }]) : cb(null, address, family)) as never,
    }, (res) => {
      try {
        resolve(toResponse(res, req, settle));
      } catch (err) {
        settle();
        r.destroy();
        reject(new TypeError(`Invalid response from "${target.host}"`, { cause: err }));
      }
    });
    signal.addEventListener("abort", onAbort, { once: true });
    r.on("error", (err) => {
      settle();
      reject(
        signal.aborted
          ? signal.reason
          : new TypeError(`Request to "${target.host}" failed: ${err.message}`, { cause: err }),
      );
    });
    r.end(req.body ?? undefined);
  });
}

/** A web Response streaming the Node response's body (cancelling it closes the connection). */
function toResponse(res: http.IncomingMessage, req: Outgoing, settle: () => void): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  }
  const init = { status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", headers };
  if (req.method === "HEAD" || NULL_BODY.has(init.status)) {
    res.on("close", settle).resume();
    return new Response(null, init);
  }
  let done = false;
  /** True the first time: the body ended one way or another. */
  const finish = () => {
    if (done) return false;
    done = true;
    settle();
    return true;
  };
  const failure = (err: unknown) => (req.signal.aborted ? req.signal.reason : err);
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      res.on("data", (chunk: Uint8Array) => {
        if (done) return;
        c.enqueue(new Uint8Array(chunk));
        if ((c.desiredSize ?? 1) <= 0) res.pause();
      });
      res.on("end", () => finish() && c.close());
      res.on("error", (err) => finish() && c.error(failure(err)));
      res.on("close", () => finish() && c.error(failure(new TypeError("The body was cut short"))));
    },
    pull() {
      res.resume();
    },
    cancel() {
      finish();
      res.destroy();
    },
  });
  return new Response(body, init);
}

/** Reads at most `maxBytes` of a body and cancels the rest; `truncated` if there was more. */
export async function readCapped(
  res: Response,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  if (res.body) {
    const reader = res.body.getReader();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
      if (total > maxBytes) {
        truncated = true;
        await reader.cancel();
        break;
      }
    }
  }
  const bytes = new Uint8Array(Math.min(total, maxBytes));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c.subarray(0, bytes.length - at), at);
    at += Math.min(c.byteLength, bytes.length - at);
  }
  return { bytes, truncated };
}
