/**
 * IP addresses for the outbound guard (./outbound.ts): parsing every way a URL may write one, ranges,
 * and which addresses are on the public internet.
 */
/** An address as a number: 32 bits for IPv4, 128 for IPv6. */
export interface Ip {
  v6: boolean;
  n: bigint;
}
export interface Cidr extends Ip {
  bits: number;
}

/** Parses an IPv4 address in the forms the WHATWG URL parser accepts ("127.1", "0x7f.0.0.1"). */
function parseV4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length > 1 && parts.at(-1) === "") parts.pop();
  if (parts.length > 4) return null;
  let n = 0n;
  for (const [i, p] of parts.entries()) {
    const v = /^0[xX][0-9a-fA-F]{0,30}$/.test(p)
      ? BigInt("0x0" + p.slice(2))
      : /^0[0-7]{1,40}$/.test(p)
      ? BigInt("0o" + p.slice(1))
      : /^(0|[1-9][0-9]{0,40})$/.test(p)
      ? BigInt(p)
      : null;
    const last = i === parts.length - 1;
    if (v === null || v >= (last ? 256n ** BigInt(5 - parts.length) : 256n)) return null;
    n += last ? v : v << BigInt(8 * (3 - i));
  }
  return n;
}

/** A dotted quad and nothing else: how an IPv4 address is written inside IPv6 and in OUTBOUND_ALLOW. */
function strictV4(s: string): bigint | null {
  return /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(s) ? parseV4(s) : null;
}

function parseV6(text: string): bigint | null {
  let s = text;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = strictV4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  let n = 0n;
  for (const g of [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt("0x" + g);
  }
  return n;
}

/** Parses an IP address: brackets and an IPv6 zone id ("fe80::1%eth0") are allowed. */
export function parseIp(text: string): Ip | null {
  const s = text.trim().replace(/^\[(.*)\]$/, "$1");
  if (s.includes(":")) {
    const n = parseV6(s.replace(/%[^%]*$/, ""));
    return n === null ? null : { v6: true, n };
  }
  const n = parseV4(s);
  return n === null ? null : { v6: false, n };
}

/** Parses "addr/bits" (or a bare address, a range of one) with strict IPv4; null if invalid. */
export function parseCidr(text: string): Cidr | null {
  const [addr, bitsText, ...rest] = text.split("/");
  const ip = addr.includes(":") ? parseIp(addr) : strictV4(addr) === null ? null : parseIp(addr);
  if (!ip || rest.length) return null;
  const width = ip.v6 ? 128 : 32;
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return null;
  const bits = bitsText === undefined ? width : Number(bitsText);
  return bits > width ? null : { ...ip, bits };
}

export function contains(c: Cidr, ip: Ip): boolean {
  if (c.v6 !== ip.v6) return false;
  const shift = BigInt((c.v6 ? 128 : 32) - c.bits);
  return ip.n >> shift === c.n >> shift;
}

const cidrs = (list: string[]) => list.map((s) => parseCidr(s)!);
const V4_BLOCKED = cidrs([
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4", // with 255.255.255.255
]);
/** IPv6 that carries an IPv4 address, judged by it: mapped, compatible (with :: and ::1), NAT64. */
const V6_EMBEDDING = cidrs(["::ffff:0:0/96", "::/96", "64:ff9b::/96"]);
const SIX_TO_FOUR = parseCidr("2002::/16")!;
/** Only global unicast is public; in it: Teredo, benchmarking and the documentation ranges. */
const V6_GLOBAL = parseCidr("2000::/3")!;
const V6_BLOCKED = cidrs(["2001::/32", "2001:2::/48", "2001:db8::/32", "3fff::/20"]);

export function isPublicIp(ip: Ip): boolean {
  if (!ip.v6) return !V4_BLOCKED.some((c) => contains(c, ip));
  if (V6_EMBEDDING.some((c) => contains(c, ip))) {
    return isPublicIp({ v6: false, n: ip.n & 0xffffffffn });
  }
  if (contains(SIX_TO_FOUR, ip)) return isPublicIp({ v6: false, n: (ip.n >> 80n) & 0xffffffffn });
  return contains(V6_GLOBAL, ip) && !V6_BLOCKED.some((c) => contains(c, ip));
}

/** Whether `ip` is on the public internet; false for private/reserved ranges and non-addresses. */
export function isPublicAddress(ip: string): boolean {
  const parsed = parseIp(ip);
  return parsed !== null && isPublicIp(parsed);
}
