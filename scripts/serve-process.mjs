/**
 * `spotter serve` as a child process for the e2e runner and the gallery benchmark: a random port, the
 * given data dir and workspace, resolved once it printed its {url, token} line.
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline';

/**
 * @param {{ root: string, dataDir: string, workspace: string, env?: Record<string, string> }} o
 * @returns {Promise<{ url: string, token: string, log: string[], stop(): Promise<void> }>}
 */
export async function launchServe({ root, dataDir, workspace, env = {} }) {
  const args = ['bin/spotter.mjs', 'serve', '--port', '0', '--data-dir', dataDir, '--workspace', workspace, '--print-url-json'];
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPOTTER_DATA_DIR: dataDir, ...env } });
  const log = [];
  proc.stderr.on('data', (c) => log.push(String(c)));
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('spotter serve printed no URL within 60 s')), 60_000);
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      log.push(line + '\n');
      try {
        const msg = JSON.parse(line);
        if (msg && typeof msg.url === 'string') {
          clearTimeout(timer);
          resolve(msg);
        }
      } catch {
        // other output
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`spotter serve exited (${code}) before printing its URL:\n${log.join('').slice(-4000)}`));
    });
  });
  const stop = async () => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { url: info.url, token: info.token, log, stop };
}
