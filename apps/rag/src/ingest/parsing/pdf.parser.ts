import { spawn } from 'node:child_process';
import { DocumentBuilder } from './document-builder';
import { DocumentParseError, type ParsedDocument, type ParseLimits } from './parsed-document';

/**
 * Runs in a child process: PDF.js (through unpdf, pure JavaScript, no native addon) reads the
 * pages' text. A process of its own lets a hostile PDF (a decompression bomb, a page tree that
 * loops, an object graph that eats memory) be stopped from outside: it is killed at the time
 * limit and dies at its heap limit, and the service carries on. (A worker thread's heap limit
 * is not a safe wall: V8 may abort the whole process when a thread reaches it.)
 */
const PDF_READER = `
const parentPort = { postMessage: (m) => process.send(m) };
process.once('message', (workerData) => (async () => {
  const { getDocumentProxy } = require(workerData.unpdf);
  let pdf;
  try {
    pdf = await getDocumentProxy(workerData.bytes, {
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      stopAtErrors: false,
      verbosity: 0,
    });
  } catch (e) {
    parentPort.postMessage({ failed: (e && e.name) || 'Error', message: String((e && e.message) || e) });
    return;
  }
  parentPort.postMessage({ pageCount: pdf.numPages });
  if (pdf.numPages > workerData.maxPages) return;
  let total = 0;
  for (let i = 1; i <= pdf.numPages; i++) {
    const page = await pdf.getPage(i);
    const content = await page.getTextContent();
    let text = '';
    for (const item of content.items) {
      text += (item.str || '') + (item.hasEOL ? '\\n' : '');
      if (total + text.length > workerData.maxTextChars) {
        parentPort.postMessage({ failed: 'TooMuchText', message: 'text over the limit' });
        return;
      }
    }
    total += text.length;
    parentPort.postMessage({ page: i, text });
    page.cleanup();
  }
  parentPort.postMessage({ done: true });
})().catch((e) => parentPort.postMessage({ failed: (e && e.name) || 'Error', message: String((e && e.message) || e) })));
`;

type ReaderMessage =
  | { pageCount: number }
  | { page: number; text: string }
  | { done: true }
  | { failed: string; message: string };

/** A PDF's text, one section per page, read under the page, time and memory limits. */
export async function parsePdf(body: Buffer, limits: ParseLimits): Promise<ParsedDocument> {
  if (!body.subarray(0, 1024).includes('%PDF-')) {
    throw new DocumentParseError('malformed', 'the body is not a PDF (no %PDF- header)');
  }
  const builder = new DocumentBuilder(limits.maxTextChars);
  let pageCount = 0;
  const bytes = new Uint8Array(body.byteLength);
  bytes.set(body);

  await new Promise<void>((resolve, reject) => {
    const reader = spawn(
      process.execPath,
      [`--max-old-space-size=${limits.pdfMemoryMb}`, '-e', PDF_READER],
      { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced' },
    );
    reader.send({
      bytes,
      unpdf: require.resolve('unpdf'),
      maxPages: limits.maxPdfPages,
      maxTextChars: limits.maxTextChars,
    });
    let settled = false;
    const finish = (error?: DocumentParseError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (reader.exitCode === null && reader.signalCode === null) reader.kill('SIGKILL');
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () =>
        finish(
          new DocumentParseError(
            'too_complex',
            `the PDF could not be read within ${limits.pdfTimeoutMs} ms`,
          ),
        ),
      limits.pdfTimeoutMs,
    );
    reader.on('message', (message: ReaderMessage) => {
      if (settled) return;
      try {
        if ('failed' in message) finish(pdfError(message.failed, message.message));
        else if ('pageCount' in message) {
          pageCount = message.pageCount;
          if (pageCount > limits.maxPdfPages) {
            finish(
              new DocumentParseError(
                'too_large',
                `the PDF has ${pageCount} pages; at most ${limits.maxPdfPages} are accepted`,
              ),
            );
          }
        } else if ('page' in message) {
          builder.startPage(message.page);
          builder.lines(message.text);
        } else finish();
      } catch (error) {
        finish(
          error instanceof DocumentParseError
            ? error
            : new DocumentParseError('malformed', 'the PDF could not be read'),
        );
      }
    });
    reader.on('error', () =>
      finish(new DocumentParseError('malformed', 'the PDF reader could not be started')),
    );
    reader.on('exit', (code, signal) =>
      finish(
        // V8 aborts a process that reaches its heap limit
        signal === 'SIGABRT' || code === 134
          ? new DocumentParseError('too_complex', 'the PDF needs too much memory to read')
          : new DocumentParseError('malformed', 'the PDF reader stopped before the end'),
      ),
    );
  });
  return { ...builder.build(), pageCount };
}

function pdfError(name: string, message: string): DocumentParseError {
  if (name === 'TooMuchText') {
    return new DocumentParseError('too_large', 'the PDF holds more text than is accepted');
  }
  if (name === 'PasswordException') {
    return new DocumentParseError('encrypted', 'the PDF is protected by a password');
  }
  return new DocumentParseError('malformed', `the PDF could not be read: ${message.slice(0, 200)}`);
}
