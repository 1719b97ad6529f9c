#!/usr/bin/env -S node --import tsx
/**
 * The klaxon CLI: incident command, integration keys, rollups, metrics, dead letters. `klaxon --help`
 * lists the commands; each works against the local runtime (`npm start`) by default, or a deployed stack.
 */
import '#local/sdk-warning';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createIntegration } from '#app/ingest';
import { KlaxonError } from '#core/errors';
import { daysBetween, previousDay, type Rollup } from '#core/metrics';
import { configPath, dataDir, loadConfigFile } from '#local/settings';
import { apiClient, DEFAULT_URL, localToken, UsageError } from '../cli/client.ts';
import { renderReplay, replayLocalDeadLetters, replaySqsDeadLetters } from '../cli/dlq.ts';
import { INCIDENT_COMMANDS, incidentSummaries, incidentUsage, runIncidentCommand } from '../cli/incident.ts';
import { buildReport, periods, progressBar, renderReport } from '../cli/report.ts';
import { tableStore } from '../cli/table.ts';

const HELP = `klaxon — the Klaxon command line

Usage:
${incidentUsage()}
  klaxon integrations create --service <id> --name <name> [target] [--json]
  klaxon rollup (--day <YYYY-MM-DD> | --from <day> --to <day>) [target] [--json]
  klaxon metrics [--period <days>] [--to <day>] [--compare-services] [--by-severity]
                 [--verbose] [target] [--json]
  klaxon dlq replay [--dry-run] [--file <path>] [--url <url>] [--token <token>] [--json]
  klaxon dlq replay --queue-url <url> --region <region> [--bus <name>] [--function <name>]
                    [--max <n>] [--dry-run] [--json]

Incident command (each: klaxon <command> --help; --json; --who defaults to KLAXON_USER, else your
OS user name; target: --url/--token for the local runtime, or --endpoint <API URL> --region for a
deployed stack, signed with SigV4):
${incidentSummaries()}

integrations create  Creates an integration key for a service (Events API v2 routing_key,
                     Alertmanager and Grafana webhooks). Printed once; Klaxon keeps its SHA-256.
rollup               Rolls up one day or backfills a range (idempotent), with a progress bar.
metrics              MTTD, MTTA, MTTR, MTBF (mean, p50, p90) for the --period days (default 30)
                     ending --to (default: yesterday in the --config timeZone) against the period
                     before: target breaches, worst services, and recommendations. Reads the
                     nightly rollups.
dlq replay           Re-drives dead letters. Locally: the letters in <data dir>/dead-letters.jsonl go
                     through the running runtime — bus letters put again (POST /local/events), timer
                     letters fired (POST /local/timers); what fails is kept. With --queue-url: receives the
                     SQS dead-letter queue's messages and re-drives each — an EventBridge rule's
                     letter is put back on its bus (--bus, else the bus in its RULE_ARN), a Lambda or
                     Scheduler letter invokes --function asynchronously with its payload — and
                     deletes a message only once its re-drive succeeded. --dry-run lists, acts not.
                     Exits 1 when a re-drive failed (that letter is kept).

Target (default: the local runtime):
  --url <url>        a running local Klaxon (default KLAXON_URL, else http://127.0.0.1:3000)
  --token <token>    its bearer token (default: KLAXON_API_TOKEN, else $KLAXON_DATA_DIR/secrets.json)
  --table <name>     a deployed stack's table (TableName output), with your AWS credentials
                     (integrations create, metrics; rollup takes --function instead)
  --function <name>  rollup: a deployed stack's rollup function (RollupFunctionName output);
                     dlq replay: the function Lambda/Scheduler letters (and aws.* events) go to —
                     process-alert for its DLQ and the rules' DLQ, escalate for the timers' DLQ
  --region <region>  AWS region for --table / --function / --queue-url
  --config <file>    config to check services against with --table, and whose timeZone picks
                     metrics' default --to (the previous local day; default KLAXON_CONFIG,
                     else klaxon.config.json, as npm start)
  --file <path>      dlq replay: the dead letters (default $KLAXON_DATA_DIR/dead-letters.jsonl)
  --queue-url <url>  dlq replay: a deployed stack's dead-letter queue
  --bus <name>       dlq replay: the bus to put EventBridge letters on (EventBusName output)

Options:
  --dry-run          dlq replay: list what would be re-driven, change nothing
  --max <n>          dlq replay: at most this many messages (default 1000)
  --json             print JSON instead of text
  -h, --help         this help
`;

const options = {
  service: { type: 'string' },
  name: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  table: { type: 'string' },
  function: { type: 'string' },
  region: { type: 'string' },
  config: { type: 'string' },
  day: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  period: { type: 'string', default: '30' },
  'compare-services': { type: 'boolean', default: false },
  'by-severity': { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  file: { type: 'string' },
  'queue-url': { type: 'string' },
  bus: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  max: { type: 'string', default: '1000' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

async function main(argv: string[]): Promise<number> {
  if (argv[0] !== undefined && INCIDENT_COMMANDS.has(argv[0])) return runIncidentCommand(argv);
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    // A usage error: the help goes to stderr, so stdout (say, piped JSON) stays clean.
    process.stderr.write(HELP);
    throw new UsageError('which command? (see klaxon --help)');
  }
  const command = positionals.join(' ');
  switch (command) {
    case 'integrations create':
      return integrationsCreate(values);
    case 'rollup':
      return rollup(values);
    case 'metrics':
      return metrics(values);
    case 'dlq replay':
      return dlqReplay(values);
    default:
      throw new UsageError(`unknown command "${command}" (see klaxon --help)`);
  }
}

async function integrationsCreate(values: Values): Promise<number> {
  if (!values.service) throw new UsageError('--service is required');
  if (!values.name) throw new UsageError('--name is required');
  const created = values.table
    ? await createInTable(
        values.table,
        values.region,
        values.config ?? configPath(),
        values.service,
        values.name,
      )
    : await api(values).json<Created>({
        method: 'POST',
        path: '/api/integrations',
        body: { service: values.service, name: values.name },
      });
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

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A --day/--from/--to value: a calendar day (2026-02-30 would roll over to March 2, so it is refused). */
function dayOption(name: string, value: string | undefined): string {
  if (value !== undefined && DAY.test(value)) {
    const t = Date.parse(`${value}T00:00:00Z`);
    if (!Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === value) return value;
  }
  throw new UsageError(`--${name}: expected a day as YYYY-MM-DD, got "${value ?? ''}"`);
}

async function rollup(values: Values): Promise<number> {
  // A rollup also writes exports and metrics and emits events, which the table alone cannot: a
  // deployed stack rolls up through its rollup function.
  if (values.table) {
    throw new UsageError(
      '--table: rollup does not run against a table; use --function <RollupFunctionName output> for a deployed stack',
    );
  }
  const days = values.day
    ? [dayOption('day', values.day)]
    : values.from || values.to
      ? daysBetween(dayOption('from', values.from), dayOption('to', values.to))
      : undefined;
  if (days === undefined) throw new UsageError('--day or --from and --to are required');
  if (days.length === 0) throw new UsageError('--to: must not be before --from');
  const lambda = values.function
    ? new LambdaClient(values.region ? { region: values.region } : {})
    : undefined;
  const results: unknown[] = [];
  const tty = process.stderr.isTTY === true;
  try {
    for (const [i, day] of days.entries()) {
      if (lambda) {
        const out = await lambda.send(
          new InvokeCommand({ FunctionName: values.function, Payload: Buffer.from(JSON.stringify({ day })) }),
        );
        if (out.FunctionError)
          throw new KlaxonError(`rollup of ${day} failed: ${Buffer.from(out.Payload ?? []).toString()}`);
        results.push({ day });
      } else {
        const body = await api(values).json<{ results: unknown[] }>({
          method: 'POST',
          path: '/local/rollups',
          body: { day },
        });
        results.push(...body.results);
      }
      const bar = progressBar(i + 1, days.length, day);
      process.stderr.write(tty ? `\r${bar}` : `${bar}\n`);
    }
  } finally {
    lambda?.destroy();
  }
  if (tty) process.stderr.write('\n');
  process.stdout.write(
    values.json ? `${JSON.stringify({ results })}\n` : `Rolled up ${days.length} day(s).\n`,
  );
  return 0;
}

async function metrics(values: Values): Promise<number> {
  const period = Number(values.period);
  if (!Number.isInteger(period) || period < 1 || period > 366) {
    throw new UsageError(`--period: expected whole days 1..366, got "${values.period}"`);
  }
  // By default the previous day in the configured zone, as the nightly rollup picks its day.
  const to = values.to
    ? dayOption('to', values.to)
    : previousDay(new Date(), await timeZoneOf(values.config ?? configPath()));
  const range = periods(to, period);
  const [from] = range.previous;
  let rollups: Rollup[];
  if (values.table) {
    const { store, client } = await tableStore(values.table, values.region);
    try {
      rollups = await store.listRollups(from, to);
    } finally {
      client.destroy();
    }
  } else {
    rollups = (
      await api(values).json<{ rollups: Rollup[] }>({
        method: 'GET',
        path: '/api/rollups',
        query: { from, to },
      })
    ).rollups;
  }
  const report = buildReport(rollups, to, period);
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ current: report.current, previous: report.previous, comparisons: report.comparisons, worst: report.worst, recommendations: report.recommendations })}\n`
      : renderReport(report, {
          compareServices: values['compare-services'],
          bySeverity: values['by-severity'],
          verbose: values.verbose,
        }),
  );
  return 0;
}

async function dlqReplay(values: Values): Promise<number> {
  const max = Number(values.max);
  if (!Number.isInteger(max) || max < 1)
    throw new UsageError(`--max: expected a positive whole number, got "${values.max}"`);
  let result: Awaited<ReturnType<typeof replayLocalDeadLetters>>;
  if (values['queue-url']) {
    const region = values.region ? { region: values.region } : {};
    const sqs = new SQSClient(region);
    const eventBridge = new EventBridgeClient(region);
    const lambda = new LambdaClient(region);
    try {
      result = await replaySqsDeadLetters({
        queueUrl: values['queue-url'],
        sqs,
        eventBridge,
        lambda,
        max,
        dryRun: values['dry-run'],
        ...(values.bus ? { bus: values.bus } : {}),
        ...(values.function ? { functionName: values.function } : {}),
      });
    } finally {
      sqs.destroy();
      eventBridge.destroy();
      lambda.destroy();
    }
  } else {
    result = await replayLocalDeadLetters({
      file: values.file ?? join(dataDir(), 'dead-letters.jsonl'),
      url: values.url ?? process.env.KLAXON_URL ?? DEFAULT_URL,
      token: values.token ?? (await localToken()),
      dryRun: values['dry-run'],
    });
  }
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : renderReplay(result));
  return result.failed > 0 ? 1 : 0;
}

/** The configured time zone (--config), which the default `metrics --to` is the previous local day in. */
async function timeZoneOf(configPath: string): Promise<string> {
  try {
    return (await loadConfigFile(configPath)).timeZone;
  } catch (error) {
    throw new KlaxonError(
      `${error instanceof Error ? error.message : String(error)} (the default --to is the previous day in its timeZone: give --config <file> or --to <YYYY-MM-DD>)`,
    );
  }
}

interface Created {
  integrationKey: string;
  service: string;
  name: string;
  createdAt: string;
}

/** The local runtime's API (--url, --token). */
function api(values: Values) {
  return apiClient({ url: values.url, token: values.token });
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
  const { store, client } = await tableStore(table, region);
  try {
    return await createIntegration(store, { service, name, now: new Date() });
  } finally {
    client.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`klaxon: ${error instanceof Error ? error.message : String(error)}\n`);
    const usage = error instanceof UsageError || (error instanceof TypeError && 'code' in error);
    process.exit(usage ? 2 : 1);
  },
);
