import type { ServerResponse } from 'node:http';
import type { BotEvent } from '../../src/app/bot-api.ts';

/**
 * One Server-Sent Events stream: `event:` is the BotEvent type, `data:` its JSON on one line. A comment
 * line every heartbeat keeps proxies and idle-timeouts from closing a quiet stream while a long job runs.
 */
export class SseStream {
  private closed = false;
  private counter = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onClose: (() => void)[] = [];

  constructor(
    private readonly response: ServerResponse,
    heartbeatMs: number,
  ) {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses by default, which would hold events back until the buffer fills.
      'x-accel-buffering': 'no',
    });
    // The retry hint makes EventSource reconnect quickly after a restart of the server.
    response.write('retry: 2000\n: connected\n\n');
    this.heartbeat = setInterval(() => this.comment('heartbeat'), heartbeatMs);
    this.heartbeat.unref();
    response.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(event: BotEvent): void {
    if (this.closed) return;
    this.counter += 1;
    // JSON.stringify never emits a raw newline, so one data: line is always enough.
    this.response.write(`id: ${this.counter}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  comment(text: string): void {
    if (this.closed) return;
    this.response.write(`: ${text}\n\n`);
  }

  whenClosed(callback: () => void): void {
    if (this.closed) callback();
    else this.onClose.push(callback);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    if (!this.response.writableEnded) this.response.end();
    for (const callback of this.onClose.splice(0)) {
      try {
        callback();
      } catch {
        // A failing cleanup must not keep the others from running.
      }
    }
  }
}

/** Every open stream, so that shutdown can end them instead of waiting for browsers to hang up. */
export class SseRegistry {
  private readonly streams = new Set<SseStream>();

  add(stream: SseStream): void {
    this.streams.add(stream);
    stream.whenClosed(() => this.streams.delete(stream));
  }

  get size(): number {
    return this.streams.size;
  }

  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}
