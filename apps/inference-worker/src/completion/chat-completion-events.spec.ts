import {
  ChatStreamError,
  chatCompletionEvents,
  type ChatStreamItem,
} from './chat-completion-events';

const encoder = new TextEncoder();

async function* pieces(...texts: string[]): AsyncGenerator<Uint8Array> {
  for (const text of texts) yield encoder.encode(text);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<ChatStreamItem[]> {
  const items: ChatStreamItem[] = [];
  for await (const item of chatCompletionEvents(source)) items.push(item);
  return items;
}

const chunk = (content: string) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

describe(chatCompletionEvents.name, () => {
  it('reads each data event as a chunk, then done', async () => {
    const items = await collect(pieces(chunk('Hel'), chunk('lo'), 'data: [DONE]\n\n'));
    expect(items).toEqual([
      { type: 'chunk', chunk: { choices: [{ index: 0, delta: { content: 'Hel' } }] } },
      { type: 'chunk', chunk: { choices: [{ index: 0, delta: { content: 'lo' } }] } },
      { type: 'done' },
    ]);
  });

  it('joins an event split across reads, even inside a multi-byte character', async () => {
    const whole = encoder.encode(chunk('café ☕') + 'data: [DONE]\n\n');
    const cut = whole.indexOf(0xe2) + 1; // inside the three bytes of ☕
    async function* split() {
      yield whole.slice(0, 7);
      yield whole.slice(7, cut);
      yield whole.slice(cut);
    }
    const items = await collect(split());
    expect(items[0]).toEqual({
      type: 'chunk',
      chunk: { choices: [{ index: 0, delta: { content: 'café ☕' } }] },
    });
    expect(items).toHaveLength(2);
  });

  it('skips comments and keep-alives, and reads CRLF line ends', async () => {
    const items = await collect(
      pieces(': keep-alive\n\n', chunk('a').replace(/\n/g, '\r\n'), 'data: [DONE]\r\n\r\n'),
    );
    expect(items.map((i) => i.type)).toEqual(['chunk', 'done']);
  });

  it('reads nothing after [DONE]', async () => {
    const items = await collect(pieces(chunk('a'), 'data: [DONE]\n\n', 'data: not json\n\n'));
    expect(items.map((i) => i.type)).toEqual(['chunk', 'done']);
  });

  it('ends without done when the body ends early, leaving a half event out', async () => {
    const items = await collect(pieces(chunk('a'), 'data: {"choices":'));
    expect(items.map((i) => i.type)).toEqual(['chunk']);
  });

  it('fails on an event that is not JSON', async () => {
    await expect(collect(pieces(chunk('a'), 'data: <html>\n\n'))).rejects.toBeInstanceOf(
      ChatStreamError,
    );
  });
});
