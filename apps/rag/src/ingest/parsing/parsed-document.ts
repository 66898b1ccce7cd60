/** A document turned into plain text, cut into the sections its headings (or pages) make. */
export interface ParsedDocument {
  /** The whole text: blocks separated by a blank line, whitespace inside a block tidied. */
  text: string;
  /**
   * Consecutive, in order, without overlap; together they hold every non-blank character of
   * `text`. A section starts with its own heading line, so the heading's words are searchable.
   */
  sections: DocumentSection[];
  /** PDF only: the document's page count. */
  pageCount?: number;
}

export interface DocumentSection {
  /** The titles of the headings above this section, outermost first; `[]` before any heading. */
  headingPath: string[];
  /** `text.slice(startOffset, startOffset + text.length)` of the document. */
  text: string;
  startOffset: number;
  /** PDF only: the 1-based page this section is. */
  page?: number;
}

export const PARSE_ERROR_CODES = [
  /** A content type (or charset) there is no parser for. */
  'unsupported_type',
  /** Over the byte, character or page limit. */
  'too_large',
  /** Text that is not valid in its charset (malformed UTF-8), or binary content sent as text. */
  'invalid_encoding',
  /** A body that is not what its content type says (a broken PDF, say). */
  'malformed',
  /** A password-protected PDF. */
  'encrypted',
  /** The parser ran out of time or memory: a hostile or pathological document. */
  'too_complex',
  /** Nothing to index: no text at all after parsing. */
  'empty',
] as const;
export type ParseErrorCode = (typeof PARSE_ERROR_CODES)[number];

/** Why a document could not be read; the message is safe to show to whoever sent it. */
export class DocumentParseError extends Error {
  override name = 'DocumentParseError';

  constructor(
    readonly code: ParseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ParseLimits {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Largest extracted text, in characters (a small compressed PDF can hold a lot of text). */
  maxTextChars: number;
  /** PDFs with more pages are refused before any page is read. */
  maxPdfPages: number;
  /** Wall-clock limit for reading one PDF; the reader is stopped when it is reached. */
  pdfTimeoutMs: number;
  /** Heap limit of the PDF reader, in MiB. */
  pdfMemoryMb: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  maxBytes: 20 * 1024 * 1024,
  maxTextChars: 5_000_000,
  maxPdfPages: 2_000,
  pdfTimeoutMs: 60_000,
  pdfMemoryMb: 512,
};

export interface DocumentInput {
  /** The media type, parameters allowed (`text/plain; charset=utf-8`). */
  contentType: string;
  body: Buffer;
  /** The file name or URL it came from; used in messages only. */
  sourceName: string;
}
