/**
 * Writes the JSON Schemas of the incident lifecycle events to docs/events/<kebab-case-type>.schema.json
 * (from lambdas/core/lifecycle-events.ts), formatted by Biome, and removes schemas of types that no
 * longer exist. Run after changing the schemas: `npm run schemas`. test/core/lifecycle-events.test.ts
 * fails while the committed files differ from what this generates.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lifecycleEventJsonSchemas } from '#core/lifecycle-event-docs';
import { LIFECYCLE_EVENT_TYPES, type LifecycleEventType } from '#core/lifecycle-events';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Relative to the repository root. */
export const SCHEMA_DIR = 'docs/events';

/** `Incident Severity Changed` → `incident-severity-changed.schema.json`. */
export function schemaFileName(type: LifecycleEventType): string {
  return `${type.toLowerCase().replaceAll(' ', '-')}.schema.json`;
}

/** Each schema file: its path relative to the repository root and its JSON value. */
export function eventSchemaFiles(): { path: string; schema: unknown }[] {
  const schemas = lifecycleEventJsonSchemas();
  return LIFECYCLE_EVENT_TYPES.map((type) => ({
    path: `${SCHEMA_DIR}/${schemaFileName(type)}`,
    schema: schemas[type],
  }));
}

function main(): void {
  const files = eventSchemaFiles();
  const dir = path.join(ROOT, SCHEMA_DIR);
  const wanted = new Set(files.map((f) => path.basename(f.path)));
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.schema.json') && !wanted.has(name)) rmSync(path.join(dir, name));
  }
  for (const file of files)
    writeFileSync(path.join(ROOT, file.path), `${JSON.stringify(file.schema, null, 2)}\n`);
  // The repository's formatter owns JSON layout, so `npm run lint` stays clean.
  const biome = spawnSync(
    path.join(ROOT, 'node_modules/.bin/biome'),
    ['format', '--write', ...files.map((f) => f.path)],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (biome.status !== 0) throw new Error(`biome format exited with ${biome.status}`);
  console.log(`wrote ${files.length} schemas to ${SCHEMA_DIR}/`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
