import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadCapped, hostAllowed } from '../../adapters/shared/capped-download.ts';
import { DownloadFailedError, DownloadRefusedError, MediaTooLargeError } from '../../src/errors.ts';

describe('downloadCapped', () => {
  let server: http.Server;
  let base: string;
  const seenAuth: (string | undefined)[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seenAuth.push(req.headers.authorization);
      if (req.url === '/small') return res.end(Buffer.alloc(100, 1));
      if (req.url === '/declared-big') {
        res.writeHead(200, { 'content-length': '5000' });
        return res.end(Buffer.alloc(5000));
      }
      if (req.url === '/chunked-big') {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000));
        return res.end();
      }
      if (req.url === '/away') {
        res.writeHead(302, { location: 'http://evil.example/steal' });
        return res.end();
      }
      if (req.url === '/boom') {
        res.writeHead(503);
        return res.end();
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const options = { allowedHosts: ['files.example'], insecureHosts: ['127.0.0.1'], maxBytes: 1000, headers: { authorization: 'Bearer t' } };

  it('matches exact hosts and dotted suffixes only', () => {
    expect(hostAllowed('cdn.discordapp.com', ['cdn.discordapp.com'])).toBe(true);
    expect(hostAllowed('files.slack.com', ['.slack.com'])).toBe(true);
    expect(hostAllowed('slack.com.evil.io', ['.slack.com'])).toBe(false);
    expect(hostAllowed('evilslack.com', ['.slack.com'])).toBe(false);
  });

  it('downloads a file under the cap', async () => {
    expect((await downloadCapped(`${base}/small`, options)).byteLength).toBe(100);
  });

  it('refuses over the cap, whether the length is declared or not', async () => {
    await expect(downloadCapped(`${base}/declared-big`, options)).rejects.toBeInstanceOf(MediaTooLargeError);
    await expect(downloadCapped(`${base}/chunked-big`, options)).rejects.toBeInstanceOf(MediaTooLargeError);
  });

  it('refuses other hosts, plain http and redirects away, without sending the token there', async () => {
    await expect(downloadCapped('https://elsewhere.example/x.png', options)).rejects.toBeInstanceOf(DownloadRefusedError);
    await expect(downloadCapped('http://files.example/x.png', options)).rejects.toBeInstanceOf(DownloadRefusedError);
    await expect(downloadCapped('file:///etc/passwd', options)).rejects.toBeInstanceOf(DownloadRefusedError);
    seenAuth.length = 0;
    await expect(downloadCapped(`${base}/away`, options)).rejects.toBeInstanceOf(DownloadRefusedError);
    expect(seenAuth).toEqual(['Bearer t']);
  });

  it('calls a failing host transient and a missing file bad input', async () => {
    await expect(downloadCapped(`${base}/boom`, options)).rejects.toBeInstanceOf(DownloadFailedError);
    await expect(downloadCapped(`${base}/missing`, options)).rejects.toBeInstanceOf(DownloadRefusedError);
  });
});
