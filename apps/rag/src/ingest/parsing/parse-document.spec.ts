import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { PDFDocument, PDFName, StandardFonts } from 'pdf-lib';
import { parseDocument } from './parse-document';
import {
  DEFAULT_PARSE_LIMITS,
  DocumentParseError,
  type ParsedDocument,
  type ParseErrorCode,
} from './parsed-document';

const parse = (contentType: string, body: string | Buffer, limits = DEFAULT_PARSE_LIMITS) =>
  parseDocument(
    { contentType, body: typeof body === 'string' ? Buffer.from(body) : body, sourceName: 'doc' },
    limits,
  );

async function refusal(promise: Promise<unknown>): Promise<ParseErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DocumentParseError) return error.code;
    throw error;
  }
  throw new Error('the document was accepted');
}

/** The promises every parser keeps: sections tile the text and say where they are. */
function expectConsistent(doc: ParsedDocument): void {
  let end = 0;
  for (const section of doc.sections) {
    expect(doc.text.slice(section.startOffset, section.startOffset + section.text.length)).toBe(
      section.text,
    );
    expect(section.startOffset).toBeGreaterThanOrEqual(end);
    expect(doc.text.slice(end, section.startOffset).trim()).toBe('');
    end = section.startOffset + section.text.length;
  }
  expect(doc.text.slice(end).trim()).toBe('');
}

async function pdf(pages: string[][]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage();
    lines.forEach((line, i) => page.drawText(line, { x: 50, y: 700 - i * 20, font, size: 12 }));
  }
  return Buffer.from(await doc.save());
}

describe('parseDocument', () => {
  describe('plain text', () => {
    it('keeps paragraphs and lines, and reads the whole text as one section', async () => {
      const doc = await parse(
        'text/plain',
        'First line\nsecond line\r\n\r\n\n  Another paragraph.  ',
      );
      expect(doc.text).toBe('First line\nsecond line\n\n  Another paragraph.');
      expect(doc.sections).toEqual([{ headingPath: [], startOffset: 0, text: doc.text }]);
    });

    it('drops a byte-order mark and control characters', async () => {
      const doc = await parse(
        'text/plain; charset=utf-8',
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\u0007b\u001bc')]),
      );
      expect(doc.text).toBe('abc');
    });

    it('decodes the charset the content type names', async () => {
      const doc = await parse(
        'text/plain; charset=ISO-8859-1',
        Buffer.from([0x63, 0x61, 0x66, 0xe9]),
      );
      expect(doc.text).toBe('café');
    });

    it('refuses malformed UTF-8 instead of indexing replacement characters', async () => {
      const body = Buffer.concat([Buffer.from('valid '), Buffer.from([0xc3, 0x28, 0xff])]);
      expect(await refusal(parse('text/plain', body))).toBe('invalid_encoding');
      expect(await refusal(parse('text/markdown', body))).toBe('invalid_encoding');
      expect(await refusal(parse('text/html', body))).toBe('invalid_encoding');
    });

    it('refuses binary content sent as text', async () => {
      expect(await refusal(parse('text/plain', Buffer.from([0x41, 0x00, 0x42])))).toBe(
        'invalid_encoding',
      );
    });

    it('refuses an unknown charset and an unknown type', async () => {
      expect(await refusal(parse('text/plain; charset=klingon', 'x'))).toBe('unsupported_type');
      expect(await refusal(parse('application/zip', 'PK'))).toBe('unsupported_type');
    });

    it('refuses a body over the byte limit and text over the character limit', async () => {
      const limits = { ...DEFAULT_PARSE_LIMITS, maxBytes: 10 };
      expect(await refusal(parse('text/plain', 'x'.repeat(11), limits))).toBe('too_large');
      const chars = { ...DEFAULT_PARSE_LIMITS, maxTextChars: 10 };
      expect(await refusal(parse('text/plain', 'word '.repeat(5), chars))).toBe('too_large');
    });

    it('refuses a document with no text', async () => {
      expect(await refusal(parse('text/plain', ' \n\n\t '))).toBe('empty');
      expect(await refusal(parse('text/html', '<script>alert(1)</script>'))).toBe('empty');
    });
  });

  describe('Markdown', () => {
    const markdown = [
      'Intro before any heading.',
      '# Guide',
      'Some *emphasis* and `code` and a [link](http://x) &amp; more.',
      '## Install',
      '```sh\nnpm ci\nnpm start\n```',
      '- one\n- two\n  - nested',
      '### Options',
      '| name | value |\n| --- | --- |\n| a | 1 |',
      '## Usage',
      'Run it.<script>steal()</script>',
      '# Appendix',
      '> Quoted text.',
    ].join('\n\n');

    it('opens a section at each heading with the path of headings above it', async () => {
      const doc = await parse('text/markdown', markdown);
      expectConsistent(doc);
      expect(doc.sections.map((s) => s.headingPath)).toEqual([
        [],
        ['Guide'],
        ['Guide', 'Install'],
        ['Guide', 'Install', 'Options'],
        ['Guide', 'Usage'],
        ['Appendix'],
      ]);
      expect(doc.sections[1].text).toBe('Guide\n\nSome emphasis and code and a link & more.');
    });

    it('keeps the lines of code, lists and tables, and drops embedded scripts', async () => {
      const doc = await parse('text/markdown', markdown);
      expect(doc.sections[2].text).toBe('Install\n\nnpm ci\nnpm start\n\n- one\n- two\n  - nested');
      expect(doc.sections[3].text).toBe('Options\n\nname | value\na | 1');
      expect(doc.sections[4].text).toBe('Usage\n\nRun it.');
      expect(doc.text).not.toContain('steal');
      expect(doc.sections[5].text).toBe('Appendix\n\nQuoted text.');
    });
  });

  describe('HTML', () => {
    it('reads headings, paragraphs and entities, and drops scripts, styles and the head', async () => {
      const doc = await parse(
        'text/html; charset=utf-8',
        `<!doctype html><html><head><title>T</title><style>p{color:red}</style></head><body>
         <nav>Home</nav><h1>Report &amp; <em>notes</em></h1><p>First   para.<br>Line two.</p>
         <script>document.write('x')</script><h2>Details</h2><div>Cell <b>bold</b></div>
         <table><tr><td>a</td><td>b</td></tr></table><pre>  code\n    indented</pre></body></html>`,
      );
      expectConsistent(doc);
      expect(doc.sections.map((s) => s.headingPath)).toEqual([
        [],
        ['Report & notes'],
        ['Report & notes', 'Details'],
      ]);
      expect(doc.sections[1].text).toBe('Report & notes\n\nFirst para.\n\nLine two.');
      expect(doc.sections[2].text).toBe('Details\n\nCell bold\n\na b\n\n  code\n    indented');
      expect(doc.text).not.toMatch(/color|document\.write|\bT\b/);
    });

    it('reads broken markup and deep nesting without failing', async () => {
      const deep = '<div>'.repeat(100_000) + 'deep text' + '</span>'.repeat(10);
      const doc = await parse('text/html', `<p>unclosed <b>bold <i>both</p>${deep}`);
      expect(doc.text).toBe('unclosed bold both\n\ndeep text');
    });
  });

  describe('PDF', () => {
    it('reads each page as a section of its own', async () => {
      const body = await pdf([['Hello PDF world', 'second line'], ['Page two text']]);
      const doc = await parse('application/pdf', body);
      expectConsistent(doc);
      expect(doc.pageCount).toBe(2);
      expect(doc.sections).toEqual([
        { headingPath: [], page: 1, startOffset: 0, text: 'Hello PDF world\nsecond line' },
        { headingPath: [], page: 2, startOffset: 29, text: 'Page two text' },
      ]);
    });

    it('refuses a body that is not a PDF, and a truncated one', async () => {
      expect(await refusal(parse('application/pdf', 'just text'))).toBe('malformed');
      const body = await pdf([['Hello']]);
      expect(await refusal(parse('application/pdf', body.subarray(0, 200)))).toBe('malformed');
    });

    it('refuses a PDF with more pages than allowed before reading them', async () => {
      const body = await pdf([['one'], ['two'], ['three']]);
      const limits = { ...DEFAULT_PARSE_LIMITS, maxPdfPages: 2 };
      expect(await refusal(parse('application/pdf', body, limits))).toBe('too_large');
    });

    it('refuses a PDF with more text than allowed', async () => {
      const body = await pdf([['a line of text'], ['another line of text']]);
      const limits = { ...DEFAULT_PARSE_LIMITS, maxTextChars: 20 };
      expect(await refusal(parse('application/pdf', body, limits))).toBe('too_large');
    });

    it('stops a reader that runs past its time limit', async () => {
      const body = await pdf([['slow']]);
      const limits = { ...DEFAULT_PARSE_LIMITS, pdfTimeoutMs: 1 };
      expect(await refusal(parse('application/pdf', body, limits))).toBe('too_complex');
    });

    it('stops the reader of a decompression bomb at its memory limit', async () => {
      // 200 KB of PDF whose page content inflates to 72 MB of text operators
      const doc = await PDFDocument.create();
      const page = doc.addPage();
      const op = Buffer.from('BT /F1 12 Tf 50 700 Td (boom) Tj ET\n');
      const raw = Buffer.alloc(op.length * 2_000_000);
      for (let i = 0; i < 2_000_000; i++) op.copy(raw, i * op.length);
      const stream = doc.context.stream(deflateSync(raw), { Filter: 'FlateDecode' });
      page.node.set(PDFName.of('Contents'), doc.context.register(stream));
      const body = Buffer.from(await doc.save());
      expect(body.byteLength).toBeLessThan(400_000);
      const limits = { ...DEFAULT_PARSE_LIMITS, pdfMemoryMb: 64 };
      expect(await refusal(parse('application/pdf', body, limits))).toBe('too_complex');
    }, 120_000);

    it('refuses a PDF with no text', async () => {
      expect(await refusal(parse('application/pdf', await pdf([[]])))).toBe('empty');
    });
  });

  it('answers any bytes of any text type with a document or a DocumentParseError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('text/plain', 'text/markdown', 'text/html'),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
          fc
            .string({ unit: 'binary', maxLength: 300 })
            .map((s) => Buffer.from(s.split('\u0000').join(''))),
          fc
            .array(
              fc.constantFrom('# h\n', '<h2>x</h2>', '\n\n', 'word ', '<p>', '- li\n', '```\n'),
            )
            .map((parts) => Buffer.from(parts.join(''))),
        ),
        async (contentType, body) => {
          try {
            expectConsistent(await parse(contentType, body));
          } catch (error) {
            expect(error).toBeInstanceOf(DocumentParseError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
