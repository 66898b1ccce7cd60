import { createParser } from 'eventsource-parser';

/** What one chunk of an OpenAI chat-completions stream carries that the worker uses. */
export interface ChatCompletionChunk {
  model?: string;
  choices?: {
    index?: number;
    delta?: { role?: string; content?: string | null };
    finish_reason?: string | null;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
  /** vLLM and others report a failure in the middle of a stream as an event of its own. */
  error?: { message?: string; code?: string | number } | string;
}

/** The stream said something that is not a chat-completion chunk. */
export class ChatStreamError extends Error {
  override name = 'ChatStreamError';
}

export type ChatStreamItem = { type: 'chunk'; chunk: ChatCompletionChunk } | { type: 'done' };

/**
 * Reads a server-sent-events body of `POST /v1/chat/completions` with `stream: true`: each
 * `data: {...}` event as a chunk, then `done` at `data: [DONE]`. Comments, other event
 * fields and keep-alives are skipped, and an event split across reads is joined, as the SSE
 * specification says; nothing after `[DONE]` is read.
 */
export async function* chatCompletionEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<ChatStreamItem> {
  const decoder = new TextDecoder();
  const pending: ChatStreamItem[] = [];
  let failure: Error | undefined;
  const parser = createParser({
    onEvent(event) {
      if (failure) return;
      if (event.data === '[DONE]') return void pending.push({ type: 'done' });
      if (event.event && event.event !== 'message' && event.event !== 'error') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(event.data);
      } catch {
        failure = new ChatStreamError(`an event is not JSON: ${event.data.slice(0, 100)}`);
        return;
      }
      if (!parsed || typeof parsed !== 'object') {
        failure = new ChatStreamError('an event is not a JSON object');
        return;
      }
      pending.push({ type: 'chunk', chunk: parsed as ChatCompletionChunk });
    },
  });
  for await (const bytes of body) {
    parser.feed(decoder.decode(bytes, { stream: true }));
    while (pending.length > 0) {
      const item = pending.shift()!;
      yield item;
      if (item.type === 'done') return;
    }
    if (failure) throw failure;
  }
  parser.feed(decoder.decode());
  // a last event without its blank line is not dispatched: the spec drops it, and so do we
  for (const item of pending) {
    yield item;
    if (item.type === 'done') return;
  }
  if (failure) throw failure;
}
