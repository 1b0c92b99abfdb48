import type { Settings } from '../../config/settings.ts';
import { chat } from '../../llm/chat.ts';
import { jpegDataUrl } from '../../llm/picture.ts';

/**
 * The vision half of the LLM endpoint (src/llm/chat.ts): one user message of text plus JPEG data URLs, one
 * answer back, for caption, answer and region captions.
 */

export type VisionLlmSettings = Pick<Settings, 'LLM_URL' | 'LLM_MODEL' | 'LLM_API_KEY' | 'LLM_TIMEOUT_MS' | 'LLM_MAX_IMAGE_SIDE'>;

export interface VisionChatRequest {
  prompt: string;
  /** JPEG bytes (see encodeForLlm), in the order the prompt refers to them. */
  images: readonly Buffer[];
  maxTokens: number;
  /** The job's signal: cancelling the job cancels the request. */
  signal: AbortSignal;
}

export interface VisionChatAnswer {
  text: string;
  /** The model stopped at maxTokens (finish_reason "length"). */
  truncated: boolean;
}

/** Low but not zero: descriptions should be stable from run to run without looping on one phrase. */
const TEMPERATURE = 0.1;

/** Asks the configured endpoint one question about some images; throws typed errors for every failure. */
export async function askVisionLlm(settings: VisionLlmSettings, request: VisionChatRequest): Promise<VisionChatAnswer> {
  return chat(settings, {
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: request.prompt },
          ...request.images.map((jpeg) => ({ type: 'image_url' as const, image_url: { url: jpegDataUrl(jpeg) } })),
        ],
      },
    ],
    maxTokens: request.maxTokens,
    temperature: TEMPERATURE,
    signal: request.signal,
  });
}
