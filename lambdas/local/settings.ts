import { readFile } from 'node:fs/promises';
import { type KlaxonConfig, parseConfig } from '#core/config';
import { ConfigError } from '#core/errors';

/**
 * Where `npm start` (bin/local.ts) and the `klaxon` CLI find the config and the data folder, decided
 * here for both: a CLI that read another config than the runtime it talks to would check services
 * and pick days against the wrong file.
 */

/** The config file: KLAXON_CONFIG, else klaxon.config.json in the working directory. */
export function configPath(): string {
  return process.env.KLAXON_CONFIG || 'klaxon.config.json';
}

/** The local runtime's data folder: KLAXON_DATA_DIR, else .klaxon in the working directory. */
export function dataDir(): string {
  return process.env.KLAXON_DATA_DIR || '.klaxon';
}

/**
 * The address `npm start` listens on: HOST, else 127.0.0.1 (this machine only). Alertmanager or
 * Grafana in Docker reach it only on another one, typically 0.0.0.0 (every interface).
 */
export function host(): string {
  return process.env.HOST || '127.0.0.1';
}

/** Whether only this machine can reach `host`; from anywhere else, only the bearer token guards the API. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The base URL of links in pages and of the printed URLs: KLAXON_PUBLIC_URL (e.g. the machine's
 * name on the LAN), else undefined, and the runtime uses the address it listens on.
 */
export function publicUrl(): string | undefined {
  const value = process.env.KLAXON_PUBLIC_URL;
  if (!value) return undefined;
  // Links are built as `<url>/a/…`: a query or fragment would end up in the middle of them.
  if (!/^https?:\/\//.test(value) || !URL.canParse(value) || /[?#]/.test(value)) {
    throw new ConfigError(
      [
        {
          field: 'KLAXON_PUBLIC_URL',
          message: 'must be an http(s) URL without a query or fragment, such as http://192.168.1.20:3000',
        },
      ],
      'environment',
    );
  }
  return value.replace(/\/+$/, '');
}

/** Reads and validates a config file; ConfigError names the bad field. */
export async function loadConfigFile(path: string): Promise<KlaxonConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([{ field: path, message: error instanceof Error ? error.message : String(error) }]);
  }
  return parseConfig(json);
}
