/**
 * Safe streaming XML: saxes over a file stream, DOCTYPEs refused outright (no DTD, so no entity
 * expansion, no external entities — the classic XXE and billion-laughs attacks have nothing to work
 * with), and parse errors turned into ImportErrors naming the file, line and column.
 */
import fs from 'node:fs';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { CancelledError } from '../jobs/jobs.js';
import { ImportError } from './model.js';

export interface XmlHandlers {
  open(name: string, attrs: Record<string, string>): void;
  close(name: string): void;
  text?(text: string): void;
}

export const DOCTYPE_REFUSED = 'XML with a DOCTYPE is not accepted: entity expansion is a security risk';

/**
 * Streams `file` through saxes and calls the handlers. Handlers may throw (an ImportError, say):
 * the error propagates and the stream is closed. Rejects with ImportError for DOCTYPEs and malformed XML.
 */
export async function parseXmlFile(file: string, handlers: XmlHandlers, signal?: AbortSignal): Promise<void> {
  const parser = new SaxesParser({ xmlns: false, position: true });
  let failure: unknown;
  parser.on('doctype', (doctype) => {
    // saxes reports the DOCTYPE once it is closed; report the line it started on
    const startLine = parser.line - (doctype.match(/\n/g)?.length ?? 0);
    throw new ImportError(DOCTYPE_REFUSED, file, `line ${startLine}`);
  });
  parser.on('error', (err) => {
    // saxes prefixes messages with `line:column: `; keep only the message, we give the position ourselves
    const msg = err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '');
    failure ??= new ImportError(`malformed XML: ${msg}`, file, `line ${parser.line}, column ${parser.column}`);
    throw failure;
  });
  parser.on('opentag', (tag) => handlers.open(tag.name, (tag as SaxesTagPlain).attributes));
  parser.on('closetag', (tag) => handlers.close(tag.name));
  if (handlers.text) {
    const onText = handlers.text;
    parser.on('text', (t) => onText(t));
    parser.on('cdata', (t) => onText(t));
  }

  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (signal?.aborted) throw new CancelledError();
      parser.write(chunk);
    }
    parser.close();
  } catch (err) {
    if (err instanceof ImportError) throw err;
    if ((err as NodeJS.ErrnoException).code && (err as NodeJS.ErrnoException).syscall) {
      throw new ImportError(`cannot read: ${(err as Error).message}`, file);
    }
    throw err;
  } finally {
    stream.destroy();
  }
}
