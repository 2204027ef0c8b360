/**
 * Pictures and files in a conversation over real HTTP and sockets: only members get them, a
 * member who left and everyone after a recall get nothing, and bad uploads are refused with
 * nothing stored.
 */
import assert from "node:assert/strict";
import sharp from "sharp";
import { type Client, friendsGroup, signUp, type TestServer, withServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import { getUser } from "../lib/accounts/users.ts";
import { leave } from "../lib/groups/moderation.ts";

async function upload(
  who: Client,
  conv: string,
  kind: string,
  bytes: Uint8Array,
  name = "",
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await who.fetch(
    `/api/convs/${conv}/media?kind=${kind}&name=${encodeURIComponent(name)}`,
    { method: "POST", body: bytes as Uint8Array<ArrayBuffer> },
  );
  return { status: res.status, body: await res.json() };
}

/** Every blob and media key: what an upload leaves in the store. */
async function stored(server: TestServer): Promise<number> {
  let n = 0;
  for (const prefix of ["blobs", "blob_chunks", "media"]) {
    for await (const _ of server.kv.list({ prefix: [prefix] })) n++;
  }
  return n;
}

async function photo(): Promise<Uint8Array> {
  // A 3000×2000 JPEG with an EXIF block naming a place, rotated by its orientation tag.
  const img = sharp({
    create: { width: 3000, height: 2000, channels: 3, background: "#3366cc" },
  }).jpeg().withMetadata({ orientation: 6 }).withExifMerge({
    IFD0: { Copyright: "SECRET-PLACE-42" },
  });
  return new Uint8Array(await img.toBuffer());
}

Deno.test("a picture: stored upright and shrunk without its metadata, shown to members only, gone after a recall", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const stranger = await signUp(server);
    const g = await friendsGroup(server, a.userId, "Photos", [b.userId]);

    const up = await upload(a.client, g.id, "image", await photo());
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const m = up.body as { id: string; w: number; h: number; tw: number; th: number };
    // EXIF orientation 6 turns it: 2000 wide, 3000 high, the long side down to 2048.
    assert.deepEqual([m.w, m.h], [1365, 2048]);
    assert.ok(m.tw <= 320 && m.th <= 320 && m.th === 320);
    const url = `/media/${g.id}/${m.id}/full`;
    assert.equal((await b.client.fetch(url)).status, 404, "not sent yet: the uploader's only");
    assert.equal((await a.client.fetch(url)).status, 200);

    const wa = await WsClient.connect(server, a.client);
    const wb = await WsClient.connect(server, b.client);
    wa.send({ type: "send", conv: g.id, cid: "p1", text: "", media: m.id });
    const ack = await wa.next("ack", (f) => f.cid === "p1");
    const got = await wb.next("msg", (f) => f.msg.seq === ack.seq);
    assert.deepEqual(got.msg.media, up.body, "the message carries what the upload answered");
    // Sent once only: another message cannot carry it again.
    wa.send({ type: "send", conv: g.id, cid: "p2", text: "again", media: m.id });
    assert.equal((await wa.next("error", (f) => f.cid === "p2")).code, "no_such_media");

    const res = await b.client.fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/webp");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.match(res.headers.get("content-security-policy")!, /sandbox/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.ok(!new TextDecoder("latin1").decode(bytes).includes("SECRET-PLACE"), "no EXIF left");
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["webp", 1365, 2048]);
    assert.equal((await b.client.fetch(`/media/${g.id}/${m.id}/thumb`)).status, 200);

    assert.equal((await stranger.client.fetch(url)).status, 404, "a stranger gets nothing");
    const noUp = await upload(stranger.client, g.id, "image", await photo());
    assert.equal(noUp.status, 404);
    assert.equal(noUp.body.error && (noUp.body.error as { code: string }).code, "not_member");

    // A member who left loses it.
    await leave(server.rt, (await getUser(server.kv, b.userId))!, g.id);
    assert.equal((await b.client.fetch(url)).status, 404, "gone for a member who left");

    // The sender recalls it: gone for everyone, bytes and all.
    const before = await stored(server);
    wa.send({ type: "recall", rid: "r", conv: g.id, seq: ack.seq });
    await wa.next("ack", (f) => f.rid === "r");
    assert.equal((await a.client.fetch(url)).status, 404);
    assert.ok(await stored(server) < before, "its blobs are deleted");
    await Promise.all([wa.close(), wb.close()]);
  });
});

Deno.test("bad uploads are refused with a clear error and leave nothing stored", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const g = await friendsGroup(server, a.userId, "Files", [b.userId]);
    const enc = (s: string) => new TextEncoder().encode(s);
    const png = new Uint8Array(
      await sharp({
        create: { width: 1, height: 1, channels: 3, background: "#000" },
      }).png().toBuffer(),
    );
    const bomb = png.slice();
    const view = new DataView(bomb.buffer);
    view.setUint32(16, 50_000);
    view.setUint32(20, 50_000);
    let c = ~0;
    for (const x of bomb.subarray(12, 29)) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    view.setUint32(29, ~c >>> 0);
    const mislabelled = new Uint8Array([...png.subarray(0, 16), ...enc("not really a png at all")]);
    const cases: [string, string, Uint8Array, number, string][] = [
      [
        "svg",
        "image",
        enc('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
        400,
        "image_type",
      ],
      ["html as image", "image", enc("<html><script>alert(1)</script></html>"), 400, "image_type"],
      ["mislabelled", "image", mislabelled, 400, "image_broken"],
      ["pixel bomb", "image", bomb, 400, "image_pixels"],
      ["empty", "file", new Uint8Array(), 400, "empty_upload"],
      ["oversized file", "file", new Uint8Array(20 * 1024 * 1024 + 1), 413, "file_too_big"],
      [
        "oversized image",
        "image",
        new Uint8Array(10 * 1024 * 1024 + 1).fill(0xff),
        413,
        "image_too_big",
      ],
      ["unknown kind", "video", png, 400, "bad_kind"],
    ];
    const before = await stored(server);
    for (const [label, kind, bytes, status, code] of cases) {
      const r = await upload(a.client, g.id, kind, bytes, "x.png");
      assert.equal(r.status, status, `${label}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body.error as { code: string }).code, code, label);
    }
    assert.equal(await stored(server), before, "nothing stored");
  });
});

Deno.test("a polyglot picture (a PNG carrying an HTML page and a ZIP after its end) is stored as pixels only", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const g = await friendsGroup(server, a.userId, "Poly", [b.userId]);
    const png = new Uint8Array(
      await sharp({
        create: { width: 40, height: 30, channels: 3, background: "#08c" },
      }).png().toBuffer(),
    );
    const tail = new TextEncoder().encode(
      "<html><script>alert(document.cookie)</script></html>PK\x03\x04evil.zip",
    );
    const up = await upload(a.client, g.id, "image", new Uint8Array([...png, ...tail]));
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const res = await a.client.fetch(`/media/${g.id}/${up.body.id}/full`);
    const stored = new TextDecoder("latin1").decode(new Uint8Array(await res.arrayBuffer()));
    assert.equal(res.headers.get("content-type"), "image/webp");
    assert.ok(!stored.includes("<script>") && !stored.includes("evil.zip"), "only pixels kept");
  });
});

Deno.test("a file: any bytes, downloaded as an attachment under a safe name, never shown inline", async () => {
  await withServer(async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const g = await friendsGroup(server, a.userId, "Docs", [b.userId]);
    const html = new TextEncoder().encode("<html><script>alert(document.cookie)</script></html>");
    const up = await upload(a.client, g.id, "file", html, '../../etc/报告 "final".html');
    assert.equal(up.status, 201);
    assert.equal(up.body.name, "报告 final.html");
    const wa = await WsClient.connect(server, a.client);
    wa.send({ type: "send", conv: g.id, cid: "f1", text: "the report", media: up.body.id });
    await wa.next("ack", (f) => f.cid === "f1");
    const res = await b.client.fetch(`/media/${g.id}/${up.body.id}/full`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    const cd = res.headers.get("content-disposition")!;
    assert.match(cd, /^attachment; filename="_+ final\.html"; filename\*=UTF-8''/);
    assert.ok(cd.includes(encodeURIComponent("报告 final.html")));
    assert.equal(await res.text(), new TextDecoder().decode(html), "the bytes as uploaded");
    await wa.close();
  });
});

Deno.test("an upload never sent is removed after a day, bytes and all; a sent one stays", async () => {
  let skew = 0;
  await withServer({ now: () => Date.now() + skew }, async (server) => {
    const a = await signUp(server);
    const b = await signUp(server);
    const g = await friendsGroup(server, a.userId, "Sweep", [b.userId]);
    const bytes = new TextEncoder().encode("some notes");
    const kept = await upload(a.client, g.id, "file", bytes, "kept.txt");
    const left = await upload(a.client, g.id, "file", bytes, "left.txt");
    const wa = await WsClient.connect(server, a.client);
    wa.send({ type: "send", conv: g.id, cid: "k", text: "", media: kept.body.id });
    await wa.next("ack", (f) => f.cid === "k");
    assert.equal(await server.rt.unsentMedia.sweep(), 0, "nothing is a day old yet");
    const before = await stored(server);
    skew = 25 * 3600_000;
    assert.equal(await server.rt.unsentMedia.sweep(), 1);
    assert.equal((await a.client.fetch(`/media/${g.id}/${left.body.id}/full`)).status, 404);
    assert.equal((await b.client.fetch(`/media/${g.id}/${kept.body.id}/full`)).status, 200);
    assert.equal(await stored(server), before - 3, "its record, blob and one chunk are gone");
    await wa.close();
  });
});
