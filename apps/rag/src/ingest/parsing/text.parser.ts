import { DocumentBuilder } from './document-builder';
import type { ParsedDocument } from './parsed-document';

/** Plain text: paragraphs are the blank-line-separated blocks; their lines are kept. */
export function parsePlainText(text: string, maxTextChars: number): ParsedDocument {
  const builder = new DocumentBuilder(maxTextChars);
  for (const block of text.replace(/\r\n?/g, '\n').split(/\n[^\S\n]*\n/)) builder.lines(block);
  return builder.build();
}
