/**
 * Dropped folders. A drop's File list holds a folder as one unreadable File; its contents are only
 * reachable through the FileSystemEntry API, and only from inside the drop handler. `droppedFiles`
 * (call it synchronously in onDrop) returns the top-level Files and remembers which are folders;
 * Electron then asks for their real paths, serve mode walks them and uploads every file.
 */

const folderEntries = new WeakMap<File, FileSystemDirectoryEntry>();

/** The dropped Files, folders included. Call synchronously in the drop handler. */
export function droppedFiles(dt: DataTransfer | null): File[] {
  if (!dt) return [];
  const out: File[] = [];
  const items = dt.items ? Array.from(dt.items).filter((i) => i.kind === 'file') : [];
  for (const item of items) {
    const file = item.getAsFile();
    if (!file) continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry?.isDirectory) folderEntries.set(file, entry as FileSystemDirectoryEntry);
    out.push(file);
  }
  // synthetic DataTransfers (and old browsers) may give no items
  return out.length ? out : Array.from(dt.files ?? []);
}

export function folderEntryOf(file: File): FileSystemDirectoryEntry | undefined {
  return folderEntries.get(file);
}

/** A file to upload and its path relative to the drop (a dropped folder's name comes first). */
export interface DropItem {
  file: File;
  relPath: string;
}

// the importer skips these as well (fsutil.walkFiles)
const skipName = (name: string) => name.startsWith('.') || name === '__MACOSX';

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries answers in batches (100 in Chromium) until it answers an empty one
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (!batch.length) return resolve(all);
        all.push(...batch);
        next();
      }, reject);
    next();
  });
}

async function walk(dir: FileSystemDirectoryEntry, prefix: string, out: DropItem[]): Promise<void> {
  for (const entry of await readAll(dir.createReader())) {
    if (skipName(entry.name)) continue;
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, rel, out);
    else if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ file, relPath: rel });
    }
  }
}

/** Every file behind a drop, with its relative path (folders walked; `webkitRelativePath` honoured). */
export async function expandDrop(files: File[]): Promise<DropItem[]> {
  const out: DropItem[] = [];
  for (const file of files) {
    const entry = folderEntryOf(file);
    if (entry) await walk(entry, entry.name, out);
    else out.push({ file, relPath: file.webkitRelativePath || file.name });
  }
  return out;
}
