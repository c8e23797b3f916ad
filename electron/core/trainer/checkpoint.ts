/**
 * The epoch an Ultralytics checkpoint was saved at, read without starting Python (torch takes seconds
 * to import). A torch checkpoint is a zip whose `<name>/data.pkl` holds the pickled dict, and
 * Ultralytics writes `epoch` as its first plain key: the 0-based epoch of a resumable checkpoint, -1
 * once `strip_optimizer` made it final (the end of training). Only that one key is decoded.
 */
import yauzl from 'yauzl';

const READ_BYTES = 64 * 1024;

function readPickleHead(file: string): Promise<Buffer | null> {
  return new Promise((resolve) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return resolve(null);
      let settled = false;
      const done = (b: Buffer | null) => {
        if (settled) return;
        settled = true;
        zip.close();
        resolve(b);
      };
      zip.on('error', () => done(null));
      zip.on('end', () => done(null));
      zip.on('entry', (e: yauzl.Entry) => {
        if (!/(^|\/)data\.pkl$/.test(e.fileName)) return zip.readEntry();
        zip.openReadStream(e, (err2, stream) => {
          if (err2 || !stream) return done(null);
          const parts: Buffer[] = [];
          let n = 0;
          stream.on('data', (c: Buffer) => {
            parts.push(c);
            n += c.length;
            if (n >= READ_BYTES) {
              stream.destroy();
              done(Buffer.concat(parts));
            }
          });
          stream.on('end', () => done(Buffer.concat(parts)));
          stream.on('error', () => done(n ? Buffer.concat(parts) : null));
        });
      });
      zip.readEntry();
    });
  });
}

/** The integer after the first `epoch` key of a pickle (protocols 2-5), or null. */
export function pickledEpoch(pkl: Buffer): number | null {
  const keys = [Buffer.from('X\x05\x00\x00\x00epoch', 'latin1'), Buffer.from('\x8c\x05epoch', 'latin1')];
  const found = keys.map((k) => [pkl.indexOf(k), k.length] as const).filter(([i]) => i >= 0);
  if (!found.length) return null;
  const [at, len] = found.reduce((a, b) => (b[0] < a[0] ? b : a));
  let i = at + len;
  // the string may be memoized before its value: BINPUT n, LONG_BINPUT n, MEMOIZE
  for (;;) {
    const op = pkl[i];
    if (op === 0x71) i += 2;
    else if (op === 0x72) i += 5;
    else if (op === 0x94) i += 1;
    else break;
  }
  const op = pkl[i];
  if (op === undefined) return null;
  if (op === 0x4b && i + 1 < pkl.length) return pkl.readUInt8(i + 1); // BININT1
  if (op === 0x4d && i + 2 < pkl.length) return pkl.readUInt16LE(i + 1); // BININT2
  if (op === 0x4a && i + 4 < pkl.length) return pkl.readInt32LE(i + 1); // BININT
  if (op === 0x49) {
    // INT: decimal text up to a newline
    const end = pkl.indexOf(0x0a, i + 1);
    const v = end > i ? Number(pkl.toString('latin1', i + 1, end)) : NaN;
    return Number.isInteger(v) ? v : null;
  }
  return null;
}

/** The saved epoch of a checkpoint (-1: final, optimizer stripped), or null when the file is not readable as one. */
export async function checkpointEpoch(file: string): Promise<number | null> {
  const head = await readPickleHead(file);
  return head ? pickledEpoch(head) : null;
}
