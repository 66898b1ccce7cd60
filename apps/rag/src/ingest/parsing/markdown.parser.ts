import { decodeHTML } from 'entities';
import { Lexer, type Token, type Tokens } from 'marked';
import { DocumentBuilder } from './document-builder';
import { htmlFragmentText, SKIPPED } from './html.parser';
import type { ParsedDocument } from './parsed-document';

/**
 * Markdown (CommonMark and GitHub's tables) to text through marked's lexer: headings open
 * sections, paragraphs lose their markup, code blocks, lists and tables keep their lines.
 */
export function parseMarkdown(markdown: string, maxTextChars: number): ParsedDocument {
  const builder = new DocumentBuilder(maxTextChars);
  const tokens = new Lexer({ gfm: true }).lex(markdown);
  for (const token of tokens) block(builder, token as Token);
  return builder.build();
}

function block(builder: DocumentBuilder, token: Token): void {
  const t = token as Tokens.Generic;
  switch (t.type) {
    case 'heading':
      builder.heading(t.depth as number, inline(t.tokens ?? []));
      return;
    case 'paragraph':
    case 'text':
      builder.paragraph(t.tokens ? inline(t.tokens) : decodeHTML(String(t.text ?? '')));
      return;
    case 'code':
      builder.lines(String(t.text ?? ''));
      return;
    case 'blockquote':
      for (const inner of t.tokens ?? []) block(builder, inner);
      return;
    case 'list':
      builder.lines(listLines(t as Tokens.List, 0).join('\n'));
      return;
    case 'table': {
      const table = t as Tokens.Table;
      const row = (cells: Tokens.TableCell[]) => cells.map((c) => inline(c.tokens)).join(' | ');
      builder.lines([row(table.header), ...table.rows.map(row)].join('\n'));
      return;
    }
    case 'html':
      builder.paragraph(htmlFragmentText(String(t.text ?? '')));
      return;
    default:
      // space, hr, def (link definitions): no text
      return;
  }
}

function listLines(list: Tokens.List, depth: number): string[] {
  const lines: string[] = [];
  const indent = '  '.repeat(depth);
  list.items.forEach((item, i) => {
    const marker = list.ordered ? `${Number(list.start || 1) + i}.` : '-';
    const own: string[] = [];
    const nested: string[] = [];
    for (const child of item.tokens) {
      if (child.type === 'list') nested.push(...listLines(child as Tokens.List, depth + 1));
      else own.push(blockText(child));
    }
    lines.push(`${indent}${marker} ${own.filter(Boolean).join(' ')}`, ...nested);
  });
  return lines;
}

/** A block inside a list item, flattened to one line. */
function blockText(token: Token): string {
  const t = token as Tokens.Generic;
  if (t.type === 'code') return String(t.text ?? '');
  if (t.type === 'html') return htmlFragmentText(String(t.text ?? ''));
  if (t.tokens) return t.tokens.map(blockText).join(' ');
  return inline([token]);
}

function inline(tokens: Token[]): string {
  let out = '';
  // inline HTML comes tag by tag: what stands between <script> and </script> is skipped
  let skipping: string | null = null;
  for (const token of tokens) {
    const t = token as Tokens.Generic;
    if (t.type === 'html') {
      const tag = /^<(\/?)([a-z][a-z0-9-]*)/i.exec(String(t.text ?? ''));
      const name = tag?.[2].toLowerCase();
      if (skipping !== null) {
        if (tag?.[1] === '/' && name === skipping) skipping = null;
        continue;
      }
      if (name && !tag?.[1] && SKIPPED.has(name) && !/\/>\s*$/.test(String(t.text))) {
        skipping = name;
        continue;
      }
    } else if (skipping !== null) continue;
    switch (t.type) {
      case 'br':
        out += '\n';
        break;
      case 'html':
        out += htmlFragmentText(String(t.text ?? ''));
        break;
      case 'codespan':
      case 'escape':
        out += decodeHTML(String(t.text ?? ''));
        break;
      case 'image':
        out += String(t.text ?? '');
        break;
      default:
        out += t.tokens ? inline(t.tokens) : decodeHTML(String(t.text ?? ''));
    }
  }
  return out;
}
