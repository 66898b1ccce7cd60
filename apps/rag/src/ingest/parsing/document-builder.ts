import { DocumentParseError, type DocumentSection, type ParsedDocument } from './parsed-document';

const BLOCK_SEPARATOR = '\n\n';

/**
 * Assembles a `ParsedDocument` from the blocks and headings a parser meets, in order, keeping
 * the sections' offsets exact. Shared by every format so they all cut text the same way.
 */
export class DocumentBuilder {
  private readonly parts: string[] = [];
  private length = 0;
  private readonly headings: { level: number; title: string }[] = [];
  private readonly sections: (DocumentSection & { hasText: boolean })[] = [];
  private page: number | undefined;

  constructor(private readonly maxTextChars: number) {}

  /** A heading opens a section; deeper headings nest under it, same or higher ones replace it. */
  heading(level: number, title: string): void {
    const clean = inlineText(title);
    if (!clean) return;
    while (this.headings.length > 0 && this.headings[this.headings.length - 1].level >= level) {
      this.headings.pop();
    }
    this.headings.push({ level, title: clean });
    this.openSection();
    this.append(clean);
  }

  /** A page opens a section of its own (PDF), under no heading. */
  startPage(page: number): void {
    this.page = page;
    this.headings.length = 0;
    this.openSection();
  }

  /** Running text: all whitespace collapses to single spaces. */
  paragraph(text: string): void {
    const clean = inlineText(text);
    if (clean) this.append(clean);
  }

  /** Text whose lines matter (code, lists, tables, PDF lines): lines kept, each tidied. */
  lines(text: string): void {
    const clean = stripControls(text)
      .split('\n')
      .map((line) => line.replace(/[^\S\n]+$/u, ''))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/^\n+|\n+$/g, '');
    if (clean.trim()) this.append(clean);
  }

  build(): ParsedDocument {
    const text = this.parts.join('');
    const sections: DocumentSection[] = [];
    for (const s of this.sections) {
      if (!s.hasText) continue;
      const { hasText: _, ...section } = s;
      sections.push(section);
    }
    return { text, sections };
  }

  private openSection(): void {
    const current = this.sections[this.sections.length - 1];
    if (current && !current.hasText) this.sections.pop();
    this.sections.push({
      headingPath: this.headings.map((h) => h.title),
      text: '',
      startOffset: this.length,
      hasText: false,
      ...(this.page !== undefined ? { page: this.page } : {}),
    });
  }

  private append(block: string): void {
    if (this.sections.length === 0) this.openSection();
    const section = this.sections[this.sections.length - 1];
    const separator = this.length > 0 ? BLOCK_SEPARATOR : '';
    if (this.length + separator.length + block.length > this.maxTextChars) {
      throw new DocumentParseError(
        'too_large',
        `the document's text is longer than ${this.maxTextChars} characters`,
      );
    }
    this.parts.push(separator, block);
    this.length += separator.length;
    if (!section.hasText) {
      section.startOffset = this.length;
      section.hasText = true;
      section.text = block;
    } else {
      section.text += separator + block;
    }
    this.length += block.length;
  }
}

/** Whitespace collapsed, control characters dropped. */
export function inlineText(text: string): string {
  return stripControls(text).replace(/\s+/gu, ' ').trim();
}

/** C0/C1 controls other than tab and newline, and stray surrogate halves, removed. */
export function stripControls(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/gu, '')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  );
}
