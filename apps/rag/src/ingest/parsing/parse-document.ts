import { decodeText, parseContentType } from './decode-text';
import { parseHtml } from './html.parser';
import { parseMarkdown } from './markdown.parser';
import {
  DEFAULT_PARSE_LIMITS,
  DocumentParseError,
  type DocumentInput,
  type ParsedDocument,
  type ParseLimits,
} from './parsed-document';
import { parsePdf } from './pdf.parser';
import { parsePlainText } from './text.parser';

/** The media types `parseDocument` reads. */
export const SUPPORTED_CONTENT_TYPES = [
  'text/plain',
  'text/markdown',
  'text/x-markdown',
  'text/html',
  'application/xhtml+xml',
  'application/pdf',
] as const;

/**
 * A document's body to text and sections. Every failure is a `DocumentParseError` with a code
 * (an unsupported type, a body over the limits, malformed UTF-8, a broken or hostile PDF, no text
 * at all); nothing else escapes, whatever the bytes.
 */
export async function parseDocument(
  input: DocumentInput,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): Promise<ParsedDocument> {
  const { mediaType, charset } = parseContentType(input.contentType);
  if (input.body.byteLength > limits.maxBytes) {
    throw new DocumentParseError(
      'too_large',
      `${input.sourceName} is ${input.body.byteLength} bytes; at most ${limits.maxBytes} are accepted`,
    );
  }
  let document: ParsedDocument;
  try {
    document = await parseByType(mediaType, charset, input.body, limits);
  } catch (error) {
    if (error instanceof DocumentParseError) throw error;
    throw new DocumentParseError('malformed', `${input.sourceName} could not be read`);
  }
  if (document.sections.length === 0) {
    throw new DocumentParseError('empty', `${input.sourceName} holds no text`);
  }
  return document;
}

async function parseByType(
  mediaType: string,
  charset: string | undefined,
  body: Buffer,
  limits: ParseLimits,
): Promise<ParsedDocument> {
  switch (mediaType) {
    case 'text/plain':
      return parsePlainText(decodeText(body, charset), limits.maxTextChars);
    case 'text/markdown':
    case 'text/x-markdown':
      return parseMarkdown(decodeText(body, charset), limits.maxTextChars);
    case 'text/html':
    case 'application/xhtml+xml':
      return parseHtml(decodeText(body, charset), limits.maxTextChars);
    case 'application/pdf':
      return parsePdf(body, limits);
    default:
      throw new DocumentParseError(
        'unsupported_type',
        `"${mediaType}" is not supported; send one of ${SUPPORTED_CONTENT_TYPES.join(', ')}`,
      );
  }
}
