import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { alive, childPids, findNginx, NGINX_SKIPPED, nginxConfig, startNginx } from '../../bench/peers/nginx.js';
import { waitUntil } from '../support/helpers.js';

/** The bench's nginx peer: the generated configuration, the skip when nginx is absent, and a clean stop. */
describe('bench nginx peer', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-nginx-spec-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const options = {
    dir: '/tmp/x',
    port: 4321,
    accessLog: '/tmp/x/access.fifo',
    upstream: 'http://127.0.0.1:5000/prio/api/',
    authorization: 'Bearer t0k.en',
  };

  it('configures one worker on the loopback, the fixed header, keep-alive upstream and the access log on the given pipe', () => {
    const conf = nginxConfig(options);
    expect(conf).toContain('worker_processes 1;');
    expect(conf).toContain('daemon off;');
    expect(conf).toContain('listen 127.0.0.1:4321;');
    expect(conf).toContain('upstream provider { server 127.0.0.1:5000; keepalive 128; }');
    expect(conf).toContain('proxy_pass http://provider/prio/api/;');
    expect(conf).toContain('proxy_set_header Authorization "Bearer t0k.en";');
    expect(conf).toContain('proxy_set_header Connection "";');
    expect(conf).toContain('access_log /tmp/x/access.fifo combined;');
    expect(conf).toContain('pid /tmp/x/nginx.pid;');
  });

  it('refuses a header value nginx would read as a variable or that would end the quoted string', () => {
    expect(() => nginxConfig({ ...options, authorization: 'Bearer $host' })).toThrow('Authorization header');
    expect(() => nginxConfig({ ...options, authorization: 'Bearer "x"; return 200;' })).toThrow('Authorization header');
    expect(() => nginxConfig({ ...options, upstream: 'https://127.0.0.1:5000/' })).toThrow('plain http');
  });

  it('finds an executable nginx on the PATH given, and none on a PATH without one (the bench then prints one skip line)', () => {
    const fakeDir = mkdtempSync(join(scratch, 'bin-'));
    writeFileSync(join(fakeDir, 'nginx'), '#!/bin/sh\n');
    chmodSync(join(fakeDir, 'nginx'), 0o755);
    const emptyDir = mkdtempSync(join(scratch, 'empty-'));
    expect(findNginx(emptyDir)).toBeUndefined();
    expect(findNginx(`${emptyDir}:${fakeDir}`)).toBe(join(fakeDir, 'nginx'));
    expect(NGINX_SKIPPED).toMatch(/^nginx: not on PATH, its row is skipped/);
  });

  const nginx = findNginx();
  if (!nginx && process.env.CI === 'true') {
    // .ci/run installs Debian's nginx: in CI a missing nginx is a broken machine, not a reason to skip.
    it('finds nginx on PATH under CI=true', () => {
      expect(nginx).toBeDefined();
    });
  } else if (!nginx) process.stdout.write(`${NGINX_SKIPPED}: the live nginx test is SKIPPED\n`);
  (nginx ? describe : describe.skip)('with nginx on PATH', () => {
    let upstream: Server;
    let seen: Array<{ url?: string; headers: IncomingHttpHeaders }>;
    beforeAll(async () => {
      seen = [];
      upstream = createServer((req, res) => {
        seen.push({ url: req.url, headers: req.headers });
        res.end('ok');
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

    it('proxies with the fixed header, counts its access lines, and leaves no process or directory behind', async () => {
      const { port } = upstream.address() as AddressInfo;
      const peer = await startNginx(nginx!, {
        upstream: `http://127.0.0.1:${port}/prio/api`,
        authorization: 'Bearer fixed',
        parent: scratch,
      });
      const masterPid = peer.proc.pid!;
      try {
        expect(childPids(masterPid)).toEqual([peer.workerPid]);
        expect(readFileSync(`/proc/${peer.workerPid}/cmdline`, 'utf8')).toContain('nginx: worker process');
        const res = await fetch(`${peer.url}/echo?n=1`);
        expect(await res.text()).toBe('ok');
        expect(seen.at(-1)).toMatchObject({ url: '/prio/api/echo?n=1', headers: { authorization: 'Bearer fixed' } });
        // The readiness probe and this request; the pipe is read asynchronously.
        await waitUntil(() => peer.accessLines() >= 2, 'two access lines');
        expect(peer.accessLines()).toBe(2);
      } finally {
        await peer.stop();
      }
      expect(alive(masterPid)).toBe(false);
      expect(alive(peer.workerPid)).toBe(false);
      expect(childPids(masterPid)).toEqual([]);
      expect(readdirSync(scratch).filter((name) => name.startsWith('nginx-'))).toEqual([]);
    });
  });
});
