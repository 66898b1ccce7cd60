import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { serverSentEvent } from './answer-events';

describe(serverSentEvent.name, () => {
  it('writes events a standard parser reads back whole, newlines in the text included', () => {
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e) });
    parser.feed(
      serverSentEvent('delta', { seq: 0, text: 'line one\n\ndata: not an event' }, 0) +
        serverSentEvent('done', { finishReason: 'stop' }, 1),
    );
    expect(events.map((e) => [e.id, e.event, JSON.parse(e.data)])).toEqual([
      ['0', 'delta', { seq: 0, text: 'line one\n\ndata: not an event' }],
      ['1', 'done', { finishReason: 'stop' }],
    ]);
  });
});
