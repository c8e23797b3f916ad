import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './fsutil.js';

const Settings = z.object({ workspace: z.string().optional() }).passthrough();
export type Settings = z.infer<typeof Settings>;

export async function loadSettings(dataDir: string): Promise<Settings> {
  try {
    return Settings.parse(JSON.parse(await fs.readFile(path.join(dataDir, 'settings.json'), 'utf8')));
  } catch {
    return {}; // missing or unreadable settings: start from defaults
  }
}

export async function saveSettings(dataDir: string, s: Settings): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true });
  await writeFileAtomic(path.join(dataDir, 'settings.json'), JSON.stringify(s, null, 2));
}
