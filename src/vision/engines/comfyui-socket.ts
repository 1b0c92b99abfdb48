import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { EngineUnavailableError } from '../../errors.ts';
import { type PreviewFrame, type WsMessage, parseBinaryFrame } from './comfyui-protocol.ts';

/**
 * The bot's one WebSocket to a ComfyUI server, under one client_id: ComfyUI sends a prompt's progress only
 * to the client_id that queued it, so every job of this process shares this socket and filters by prompt_id.
 * The socket reconnects by itself while anyone listens and closes a while after the last listener leaves.
 */

export interface SocketListener {
  message(message: WsMessage): void;
  /** `promptId`: from the frame's metadata, else the prompt of ours that ComfyUI said is running. */
  preview(image: Buffer, promptId: string | undefined): void;
  /** The socket came back after a drop: events may have been missed, so listeners re-check over HTTP. */
  reconnected(): void;
}

const RECONNECT_DELAYS_MS = [100, 250, 500, 1000, 2000];
const IDLE_CLOSE_MS = 15_000;

export class ComfyUiSocket {
  readonly clientId = `vitron-${randomUUID()}`;
  private ws: WebSocket | undefined;
  private opening: Promise<void> | undefined;
  private readonly listeners = new Set<SocketListener>();
  private running: string | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly baseUrl: string) {}

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Adds a listener and opens the socket (rejecting with EngineUnavailableError when it cannot). */
  async subscribe(listener: SocketListener, timeoutMs: number): Promise<() => void> {
    this.closed = false;
    clearTimeout(this.idleTimer);
    this.listeners.add(listener);
    const unsubscribe = () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.idleTimer = setTimeout(() => this.close(), IDLE_CLOSE_MS);
        this.idleTimer.unref();
      }
    };
    try {
      await this.open(timeoutMs);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.idleTimer);
    this.ws?.terminate();
    this.ws = undefined;
    this.opening = undefined;
  }

  private open(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    this.opening ??= new Promise<void>((resolve, reject) => {
      const url = `${this.baseUrl.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(this.clientId)}`;
      const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
      this.ws = ws;
      ws.on('open', () => {
        const wasReconnect = this.attempt > 0;
        this.attempt = 0;
        this.opening = undefined;
        resolve();
        if (wasReconnect) for (const l of [...this.listeners]) l.reconnected();
      });
      ws.on('message', (data, isBinary) => this.dispatch(data as Buffer, isBinary));
      ws.on('error', (error) => {
        if (this.opening === undefined) return;
        this.opening = undefined;
        reject(
          new EngineUnavailableError('comfyui', `ComfyUI at ${this.baseUrl} refused its WebSocket /ws (${error.message}); check COMFYUI_URL.`, {
            cause: error,
          }),
        );
      });
      ws.on('close', () => {
        if (this.ws !== ws) return;
        this.ws = undefined;
        this.opening = undefined;
        this.running = undefined;
        this.scheduleReconnect();
      });
    });
    return this.opening;
  }

  /** While jobs listen, a dropped socket comes back on its own with growing pauses. */
  private scheduleReconnect(): void {
    if (this.closed || this.listeners.size === 0) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)]!;
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      // A failed attempt closes the socket again, which schedules the next one.
      this.open(10_000).catch(() => undefined);
    }, delay);
    this.reconnectTimer.unref();
  }

  private dispatch(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const frame: PreviewFrame | undefined = parseBinaryFrame(data);
      if (frame === undefined) return;
      const promptId = frame.promptId ?? this.running;
      for (const l of [...this.listeners]) l.preview(frame.image, promptId);
      return;
    }
    let message: WsMessage;
    try {
      message = JSON.parse(data.toString('utf8')) as WsMessage;
    } catch {
      return;
    }
    if (typeof message?.type !== 'string' || typeof message.data !== 'object' || message.data === null) return;
    this.track(message);
    for (const l of [...this.listeners]) l.message(message);
  }

  /** Which of our prompts runs now: binary previews carry no prompt id, so they belong to it. */
  private track({ type, data }: WsMessage): void {
    const id = typeof data.prompt_id === 'string' ? data.prompt_id : undefined;
    if (type === 'execution_start' || (type === 'executing' && data.node !== null && id !== undefined)) this.running = id;
    const ended =
      type === 'execution_success' || type === 'execution_error' || type === 'execution_interrupted' || (type === 'executing' && data.node === null);
    if (ended && (id === undefined || id === this.running)) this.running = undefined;
  }
}
