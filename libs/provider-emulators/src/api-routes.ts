import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DownloadRecord } from './emulator.types.js';
import { sendJson } from './http-answer.js';

/**
 * The emulated business APIs, behind each provider's token check: an echo of what arrived (the
 * default for any path), deterministic downloads, streaming uploads, slow answers and chosen
 * statuses, so the gateway's proxying can be tested byte for byte.
 */

/** 256 rounds of 0..250: every chunk starts at a multiple of 251, so byte i is always i % 251. */
const PATTERN = Buffer.from(Array.from({ length: 251 * 256 }, (_, i) => i % 251));
const MAX_DOWNLOAD_BYTES = 2 ** 40;

export interface ApiRouteContext {
  /** Slow answers register here so `close()` can cancel their timers. */
  timers: Set<NodeJS.Timeout>;
  /** Downloads of this provider's API are recorded here. */
  downloads: DownloadRecord[];
}

export async function serveApi(
  subPath: string,
  query: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ApiRouteContext,
): Promise<void> {
  const method = req.method ?? 'GET';
  let match: RegExpExecArray | null;
  if (method === 'GET' && (match = /^\/bytes\/(\d{1,13})$/.exec(subPath)) && Number(match[1]) <= MAX_DOWNLOAD_BYTES) {
    const download: DownloadRecord = { total: Number(match[1]), written: 0, state: 'streaming' };
    ctx.downloads.push(download);
    return streamPattern(res, download);
  }
  if ((method === 'POST' || method === 'PUT') && subPath === '/upload') {
    const { bytes, sha256 } = await digest(req);
    return sendJson(res, 200, { bytes, sha256 });
  }
  if (method === 'GET' && (match = /^\/slow\/(\d{1,7})$/.exec(subPath))) {
    const ms = Number(match[1]);
    const timer = setTimeout(() => {
      ctx.timers.delete(timer);
      sendJson(res, 200, { sleptMs: ms });
    }, ms);
    ctx.timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      ctx.timers.delete(timer);
    });
    return;
  }
  if ((match = /^\/status\/([1-5]\d\d)$/.exec(subPath)) && Number(match[1]) >= 200) {
    const status = Number(match[1]);
    await digest(req);
    if (status === 204 || status === 304) {
      res.writeHead(status).end();
      return;
    }
    return sendJson(res, status, { status });
  }
  const { bytes, sha256 } = await digest(req);
  sendJson(res, 200, { method, path: req.url?.split('?')[0] ?? '', query, headers: req.headers, bodyBytes: bytes, bodySha256: sha256 });
}

/** Reads a body as it streams in, keeping only its length and SHA-256. */
async function digest(req: IncomingMessage): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

async function streamPattern(res: ServerResponse, download: DownloadRecord): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(download.total) });
  res.once('close', () => {
    if (download.state === 'streaming') download.state = 'closed';
  });
  while (download.written < download.total && !res.destroyed) {
    const left = download.total - download.written;
    const chunk = left >= PATTERN.length ? PATTERN : PATTERN.subarray(0, left);
    download.written += chunk.length;
    if (!res.write(chunk)) await drainedOrClosed(res);
  }
  if (res.destroyed) return;
  res.end();
  download.state = 'ended';
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
