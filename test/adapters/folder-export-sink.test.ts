import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderExportSink } from '#adapters/local/folder-export-sink';
import { ValidationError } from '#core/errors';
import { CSV_CONTENT_TYPE } from '#core/exports';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'klaxon-exports-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `dir`, relative, sorted (temporary files included). */
async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('folder export sink', () => {
  it('writes the body to root/<key>, creating the folders, and leaves no temporary file', async () => {
    await new FolderExportSink(root).put(
      'exports/rollups_csv/dt=2026-11-26/rollups.csv',
      'a,b\r\n1,2\r\n',
      CSV_CONTENT_TYPE,
    );
    expect(await readFile(join(root, 'exports/rollups_csv/dt=2026-11-26/rollups.csv'), 'utf8')).toBe(
      'a,b\r\n1,2\r\n',
    );
    expect(await files(root)).toEqual(['exports/rollups_csv/dt=2026-11-26/rollups.csv']);
  });

  it('overwrites an existing file as a whole (a re-run of the day)', async () => {
    const sink = new FolderExportSink(root);
    await sink.put(
      'incidents/dt=2026-11-26/incidents.jsonl',
      `${'x'.repeat(10_000)}\n`,
      'application/x-ndjson',
    );
    await sink.put('incidents/dt=2026-11-26/incidents.jsonl', '{"id":"a"}\n', 'application/x-ndjson');
    expect(await readFile(join(root, 'incidents/dt=2026-11-26/incidents.jsonl'), 'utf8')).toBe(
      '{"id":"a"}\n',
    );
    expect(await files(root)).toEqual(['incidents/dt=2026-11-26/incidents.jsonl']);
  });

  it('keeps a reader from ever seeing a partial file when puts race', async () => {
    const sink = new FolderExportSink(root);
    const bodies = ['a', 'b', 'c', 'd'].map((c) => c.repeat(200_000));
    await Promise.all(bodies.map((body) => sink.put('race/file.txt', body, 'text/plain')));
    expect(bodies).toContain(await readFile(join(root, 'race/file.txt'), 'utf8'));
    expect(await files(root)).toEqual(['race/file.txt']);
  });

  it('writes UTF-8', async () => {
    await new FolderExportSink(root).put('u.csv', 'título 🚨\r\n', CSV_CONTENT_TYPE);
    expect(await readFile(join(root, 'u.csv'))).toEqual(Buffer.from('título 🚨\r\n', 'utf8'));
  });

  it.each([
    '../outside.csv',
    'exports/../../outside.csv',
    'a/../b.csv',
    './a.csv',
    '/etc/klaxon.csv',
    'C:\\klaxon.csv',
    'a\\..\\b.csv',
    'a//b.csv',
    'folder/',
    '',
    'nul\0.csv',
  ])('rejects the key %j and writes nothing', async (key) => {
    const parent = join(root, 'exports');
    const sink = new FolderExportSink(parent);
    await writeFile(join(root, 'sentinel'), 'keep');
    await expect(sink.put(key, 'body', CSV_CONTENT_TYPE)).rejects.toBeInstanceOf(ValidationError);
    expect(await files(root)).toEqual(['sentinel']);
  });
});
