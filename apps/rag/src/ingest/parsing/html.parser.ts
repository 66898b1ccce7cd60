import { Parser } from 'htmlparser2';
import { DocumentBuilder } from './document-builder';
import type { ParsedDocument } from './parsed-document';

/** Elements whose content is never text for a reader. */
export const SKIPPED = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'head',
  'svg',
  'math',
  'iframe',
  'object',
  'canvas',
  'select',
  'button',
]);

/** Elements that end the running block of text (the ones a browser lays out as blocks). */
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'br',
  'caption',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'hr',
  'html',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'tr',
  'ul',
]);

const HEADING = /^h([1-6])$/;

/**
 * HTML to text: scripts, styles and other non-text elements dropped, `h1`-`h6` open sections,
 * block elements end paragraphs, `pre` keeps its lines. Malformed markup is read the forgiving
 * way browsers read it (htmlparser2), and the parser keeps no tree, so deep nesting costs nothing.
 */
export function parseHtml(html: string, maxTextChars: number): ParsedDocument {
  const builder = new DocumentBuilder(maxTextChars);
  let skipDepth = 0;
  let preDepth = 0;
  let heading: { level: number; text: string } | null = null;
  let block = '';

  const flush = () => {
    if (preDepth > 0) builder.lines(block);
    else builder.paragraph(block);
    block = '';
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (skipDepth > 0 || SKIPPED.has(name)) {
          // void elements in a skipped subtree still get a close event from htmlparser2
          skipDepth++;
          return;
        }
        const level = HEADING.exec(name);
        if (level) {
          flush();
          heading = { level: Number(level[1]), text: '' };
        } else if (BLOCKS.has(name)) {
          if (heading) heading.text += ' ';
          else flush();
          if (name === 'pre') preDepth++;
        } else if (name === 'td' || name === 'th') {
          block += ' ';
        }
      },
      ontext(text) {
        if (skipDepth > 0) return;
        if (heading) heading.text += text;
        else block += text;
      },
      onclosetag(name) {
        if (skipDepth > 0) {
          skipDepth--;
          return;
        }
        if (heading && HEADING.test(name)) {
          builder.heading(heading.level, heading.text);
          heading = null;
        } else if (BLOCKS.has(name) && !heading) {
          flush();
          if (name === 'pre') preDepth = Math.max(0, preDepth - 1);
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  if (heading !== null)
    builder.heading((heading as { level: number }).level, (heading as { text: string }).text);
  flush();
  return builder.build();
}

/** The readable text of an HTML fragment, on one line (HTML inside Markdown). */
export function htmlFragmentText(html: string): string {
  return parseHtml(html, Number.MAX_SAFE_INTEGER)
    .sections.map((s) => s.text)
    .join(' ');
}
