#!/usr/bin/env -S node --import tsx
/**
 * The klaxon CLI. Today: integration keys. `klaxon --help` lists the commands.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '#adapters/aws/dynamodb-client';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { createIntegration } from '#app/ingest';
import { KlaxonError } from '#core/errors';
import { loadConfigFile } from '#local/runtime';

const HELP = `klaxon — the Klaxon command line

Usage:
  klaxon integrations create --service <id> --name <name> [target] [--json]

Creates an integration key for a service (for Events API v2 routing_key, Alertmanager and
Grafana webhooks). The key is printed once; Klaxon stores only its SHA-256.

Target (one of):
  --url <url>        a running Klaxon API (default http://127.0.0.1:3000, the local runtime)
  --token <token>    bearer token for --url (default: KLAXON_API_TOKEN, else the local
                     runtime's token from $KLAXON_DATA_DIR/secrets.json)
  --table <name>     a deployed stack's table (the TableName output), written directly with
                     your AWS credentials; --region picks the region
  --config <file>    config to check the service against with --table (default klaxon.config.json)

Options:
  --json             print JSON instead of text
  -h, --help         this help
`;

interface Created {
  integrationKey: string;
  service: string;
  name: string;
  createdAt: string;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      name: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      table: { type: 'string' },
      region: { type: 'string' },
      config: { type: 'string', default: 'klaxon.config.json' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  if (positionals.join(' ') !== 'integrations create') {
    throw new UsageError(`unknown command "${positionals.join(' ')}" (see klaxon --help)`);
  }
  if (!values.service) throw new UsageError('--service is required');
  if (!values.name) throw new UsageError('--name is required');

  const created = values.table
    ? await createInTable(values.table, values.region, values.config, values.service, values.name)
    : await createViaApi(values.url ?? 'http://127.0.0.1:3000', values.token, values.service, values.name);

  if (values.json) {
    process.stdout.write(`${JSON.stringify(created)}\n`);
  } else {
    process.stdout.write(
      `Integration key for ${created.service} (${created.name}):\n\n  ${created.integrationKey}\n\n` +
        'Keep it now: Klaxon stores only its hash and cannot show it again.\n',
    );
  }
  return 0;
}

class UsageError extends KlaxonError {}

async function createViaApi(
  url: string,
  token: string | undefined,
  service: string,
  name: string,
): Promise<Created> {
  const bearer = token ?? process.env.KLAXON_API_TOKEN ?? (await localToken());
  const res = await fetch(new URL('/api/integrations', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ service, name }),
  }).catch((error: unknown) => {
    throw new KlaxonError(`cannot reach ${url}: is Klaxon running (npm start)? (${String(error)})`);
  });
  const body = (await res.json().catch(() => ({}))) as Created & {
    message?: string;
    errors?: { field: string; message: string }[];
  };
  if (res.status !== 201) {
    const fields = (body.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new KlaxonError(`${res.status} ${body.message ?? res.statusText}${fields ? ` (${fields})` : ''}`);
  }
  return body;
}

async function localToken(): Promise<string> {
  const path = join(process.env.KLAXON_DATA_DIR ?? '.klaxon', 'secrets.json');
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as { apiToken: string }).apiToken;
  } catch {
    throw new UsageError(`no --token given and no local runtime token in ${path}`);
  }
}

async function createInTable(
  table: string,
  region: string | undefined,
  configPath: string,
  service: string,
  name: string,
): Promise<Created> {
  const config = await loadConfigFile(configPath);
  if (!config.services.some((s) => s.id === service)) {
    throw new UsageError(`--service: no service "${service}" in ${configPath}`);
  }
  const client = new DynamoDBClient(region ? { region } : {});
  try {
    const store = new DynamoDbIncidentStore({ tableName: table, client: documentClient(client) });
    return await createIntegration(store, { service, name, now: new Date() });
  } finally {
    client.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`klaxon: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError || (error instanceof TypeError && 'code' in error) ? 2 : 1);
  },
);
