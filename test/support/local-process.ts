import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunningKlaxon {
  readonly pid: number;
  readonly url: string;
  readonly apiToken: string;
  readonly integrationKeys: Record<string, string>;
  readonly output: () => string;
  /** Sends SIGINT and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `npm start`'s entry point (bin/local.ts) as a child process, as a user would: on a free
 * port of 127.0.0.1, whatever HOST or KLAXON_PUBLIC_URL the shell exports (`env` may set them).
 */
export async function startKlaxonProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<RunningKlaxon> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    // Without the test runner's switch for the SDK's Node 20 warning: the entry point must set it.
    env: {
      ...userEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      KLAXON_PUBLIC_URL: '',
      KLAXON_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`klaxon did not start:\n${out}`)), 30_000);
    const check = () => {
      const match = /POST (http:\/\/127\.0\.0\.1:\d+)\/v2\/enqueue/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`klaxon exited with ${code}:\n${out}`));
    });
  });
  const secrets = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as {
    apiToken: string;
    integrationKeys: Record<string, string>;
  };
  return {
    pid: child.pid ?? 0,
    url,
    apiToken: secrets.apiToken,
    integrationKeys: secrets.integrationKeys,
    output: () => out,
    async stop() {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** Polls `probe` until it returns a value that is not undefined (or fails after `timeoutMs`). */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The environment a user's shell would give a child: the test runner's own switches left out. */
export function userEnv(): NodeJS.ProcessEnv {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...env } = process.env;
  return env;
}
