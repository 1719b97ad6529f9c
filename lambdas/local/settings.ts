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
