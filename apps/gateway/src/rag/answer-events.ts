/**
 * Server-sent events of a streamed answer (the WHATWG `text/event-stream` format): one
 * `event:` line and one `data:` line of JSON per event, a blank line after each. JSON never
 * holds a raw newline, so one `data:` line carries it whole.
 */
export const EVENT_STREAM_CONTENT_TYPE = 'text/event-stream';

export type AnswerEventName = 'citations' | 'delta' | 'done' | 'error';

export function serverSentEvent(name: AnswerEventName, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
