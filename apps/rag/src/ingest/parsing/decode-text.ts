import { TextDecoder } from 'node:util';
import { DocumentParseError } from './parsed-document';

/** `text/html; charset=ISO-8859-1` -> `{ mediaType: 'text/html', charset: 'iso-8859-1' }`. */
export function parseContentType(contentType: string): { mediaType: string; charset?: string } {
  const [type, ...params] = contentType.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const [key, value] = param.split('=');
    if (key?.trim().toLowerCase() === 'charset' && value) {
      charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
    }
  }
  return { mediaType: type.trim().toLowerCase(), ...(charset ? { charset } : {}) };
}

/**
 * Bytes to text in the declared charset (UTF-8 when none is declared), refusing bytes that are
 * not valid in it instead of indexing replacement characters, and refusing binary content.
 */
export function decodeText(body: Buffer, charset = 'utf-8'): string {
  let decoder: TextDecoder;
  try {
    // ignoreBOM false: a leading byte-order mark is consumed, not kept as text
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new DocumentParseError('unsupported_type', `the charset "${charset}" is not supported`);
  }
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new DocumentParseError(
      'invalid_encoding',
      `the body is not valid ${decoder.encoding} text`,
    );
  }
  if (text.includes('\u0000')) {
    throw new DocumentParseError('invalid_encoding', 'the body holds binary data, not text');
  }
  return text;
}
