#!/usr/bin/env -S node --import tsx
/**
 * The klaxon CLI: incident command, integration keys, rollups, metrics, dead letters. `klaxon --help`
 * lists the commands and `klaxon <command> --help` explains one; each works against the local
 * runtime (`npm start`) by default, or a deployed stack.
 */
import '#local/sdk-warning';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createIntegration } from '#app/ingest';
import type { FollowedItem } from '#core/analysis';
import { KlaxonError } from '#core/errors';
import { daysBetween, localDay, previousDay, type Rollup } from '#core/metrics';
import { configPath, dataDir, loadConfigFile } from '#local/settings';
import { ApiError, apiClient, localToken, localUrl, notApplying, UsageError } from '../cli/client.ts';
import { renderReplay, replayLocalDeadLetters, replaySqsDeadLetters } from '../cli/dlq.ts';
import {
  INCIDENT_COMMANDS,
  incidentSummaries,
  incidentUsage,
  runIncidentCommand,
  synopsis,
} from '../cli/incident.ts';
import { buildReport, periods, progressBar, renderReport, withoutExcluded } from '../cli/report.ts';
import { tableActionItems, tableStore } from '../cli/table.ts';

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
  max: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Flag = keyof typeof options;
type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];

/** The commands besides the incident ones (cli/incident.ts), described the same way. */
interface Command {
  /** The synopsis after `klaxon `. */
  readonly usage: string;
  readonly summary: string;
  /** More help: what it does, each option. */
  readonly details: string;
  /** The flags it takes (with --json and --help); any other is refused, naming it. */
  readonly flags: readonly Flag[];
  readonly run: (values: Values) => Promise<number>;
}

const LOCAL_TARGET = `  --url <url>          a running local Klaxon (default KLAXON_URL, else port PORT or 3000 on 127.0.0.1)
  --token <token>      its bearer token (default KLAXON_API_TOKEN, else $KLAXON_DATA_DIR/secrets.json)
`;
const CONFIG_HELP = `  --config <file>      the config (default KLAXON_CONFIG, else klaxon.config.json, as npm start)
`;
const JSON_HELP = '  --json               print JSON instead of text\n';

const COMMANDS: Record<string, Command> = {
  'integrations create': {
    usage:
      'integrations create --service <id> --name <name> [--url <url> --token <token> |\n--table <name> --region <region> --config <file>] [--json]',
    summary: 'Creates an integration key for a service (shown once).',
    details: `Creates an integration key for a service: the Events API v2 routing_key, and the key of the
Alertmanager and Grafana webhooks. Printed once; Klaxon keeps only its SHA-256.

Options:
  --service <id>       the service (its id in the config)
  --name <name>        what sends with it, e.g. "Prometheus prod"
${JSON_HELP}
Target (default: the local runtime, npm start):
${LOCAL_TARGET}  --table <name>       a deployed stack's table (TableName output), with your AWS credentials
  --region <region>    its region
${CONFIG_HELP}                       (with --table: the service must be in it)
`,
    flags: ['service', 'name', 'url', 'token', 'table', 'region', 'config'],
    run: integrationsCreate,
  },
  rollup: {
    usage:
      'rollup (--day <YYYY-MM-DD> | --from <day> --to <day>) [--url <url> --token <token> |\n--function <name> --region <region>] [--json]',
    summary: 'Rolls up one day or backfills a range (idempotent), with a progress bar.',
    details: `Rolls up a day's incidents into the metrics rollups and exports, as the nightly run does;
again for a day already rolled up replaces its rollup. A range goes day by day, with a progress
bar on stderr.

Options:
  --day <YYYY-MM-DD>   one day
  --from <day>         the first day of a range
  --to <day>           its last day
${JSON_HELP}
Target (default: the local runtime, npm start):
${LOCAL_TARGET}  --function <name>    a deployed stack's rollup function (RollupFunctionName output)
  --region <region>    its region
`,
    flags: ['day', 'from', 'to', 'url', 'token', 'function', 'region', 'table'],
    run: rollup,
  },
  metrics: {
    usage:
      'metrics [--period <days>] [--to <day>] [--compare-services] [--by-severity] [--verbose]\n[--url <url> --token <token> | --table <name> --region <region>] [--config <file>] [--json]',
    summary: 'MTTD, MTTA, MTTR, MTBF against the period before, with recommendations.',
    details: `MTTD, MTTA, MTTR, MTBF (mean, p50, p90) for the --period days ending --to, against the
period before: target breaches, worst services, and recommendations. Reads the nightly rollups.
Also the postmortem action items due in each period (done on time, late, still open) and those
overdue today, by deadline days in the config's timeZone.

Options:
  --period <days>      1..366 (default 30)
  --to <day>           the last day (default: yesterday in the config's timeZone)
  --compare-services   a table of the services, worst MTTR first
  --by-severity        a table per severity
  --verbose            p50 and p90 too
${CONFIG_HELP}${JSON_HELP}
Target (default: the local runtime, npm start):
${LOCAL_TARGET}  --table <name>       a deployed stack's table (TableName output), with your AWS credentials
  --region <region>    its region
`,
    flags: [
      'period',
      'to',
      'compare-services',
      'by-severity',
      'verbose',
      'config',
      'url',
      'token',
      'table',
      'region',
    ],
    run: metrics,
  },
  'dlq replay': {
    usage:
      'dlq replay [--file <path>] [--url <url>] [--token <token>] [--dry-run] [--json]\n| --queue-url <url> --region <region> [--bus <name>] [--function <name>] [--max <n>]\n[--dry-run] [--json]',
    summary: 'Re-drives dead letters (local file, or a deployed SQS dead-letter queue).',
    details: `Re-drives dead letters. Locally: the letters in <data dir>/dead-letters.jsonl go through the
running runtime — bus letters delivered again (POST /local/events/redeliver), timer letters fired (POST
/local/timers); what fails is kept. With --queue-url: receives the SQS dead-letter queue's
messages and re-drives each — an EventBridge rule's letter is put back on its bus (--bus, else the
bus in its RULE_ARN), a Lambda or Scheduler letter invokes --function asynchronously with its
payload — and deletes a message only once its re-drive succeeded. Exits 1 when a re-drive failed
(that letter is kept).

Options:
  --dry-run            list what would be re-driven, change nothing
${JSON_HELP}
Local runtime (default):
  --file <path>        the dead letters (default $KLAXON_DATA_DIR/dead-letters.jsonl)
${LOCAL_TARGET}
Deployed stack:
  --queue-url <url>    its dead-letter queue
  --region <region>    its region
  --bus <name>         the bus EventBridge letters go on (EventBusName output)
  --function <name>    the function Lambda/Scheduler letters (and aws.* events) go to —
                       process-alert for its DLQ and the rules' DLQ, escalate for the timers' DLQ
  --max <n>            at most this many messages (default 1000)
`,
    flags: ['dry-run', 'file', 'url', 'token', 'queue-url', 'region', 'bus', 'function', 'max'],
    run: dlqReplay,
  },
};

/** The first words of the commands with a subcommand: `klaxon dlq` alone asks which one. */
const GROUPS = new Set(
  Object.keys(COMMANDS).flatMap((name) => (name.includes(' ') ? [name.split(' ')[0]] : [])),
);

const HELP = `klaxon — the Klaxon command line

Usage:
${incidentUsage()}
${Object.entries(COMMANDS)
  .map(([name, c]) => synopsis(name, c))
  .join('\n')}

Incident command (--who defaults to KLAXON_USER, else your OS user name; target: --url/--token for
the local runtime, or --endpoint <API URL> --region for a deployed stack, signed with SigV4):
${incidentSummaries()}

${Object.entries(COMMANDS)
  .map(([name, c]) => `${name.padEnd(21)}${c.summary}`)
  .join('\n')}

Each command explains itself and its options: klaxon <command> --help.

Options:
  --json               print JSON instead of text
  -h, --help           this help, or with a command that command's
`;

function commandHelp(name: string, command: Command): string {
  return `Usage:\n${synopsis(name, command)}\n\n${command.details}`;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] !== undefined && INCIDENT_COMMANDS.has(argv[0])) return runIncidentCommand(argv);
  const [first = '', second = ''] = argv;
  const name = COMMANDS[`${first} ${second}`] ? `${first} ${second}` : COMMANDS[first] ? first : undefined;
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (name === undefined) {
    if (GROUPS.has(first)) {
      const subs = Object.entries(COMMANDS).filter(([n]) => n.startsWith(`${first} `));
      const help = subs.map(([n, c]) => commandHelp(n, c)).join('\n');
      if (wantsHelp) {
        process.stdout.write(help);
        return 0;
      }
      process.stderr.write(help);
      throw new UsageError(
        second === '' || second.startsWith('-')
          ? `${first}: which one? (see klaxon ${first} --help)`
          : `unknown command "${first} ${second}" (see klaxon --help)`,
      );
    }
    if (first === '' || first.startsWith('-')) {
      if (wantsHelp) {
        process.stdout.write(HELP);
        return 0;
      }
      // A usage error: the help goes to stderr, so stdout (say, piped JSON) stays clean.
      process.stderr.write(HELP);
      throw new UsageError('which command? (see klaxon --help)');
    }
    throw new UsageError(`unknown command "${first}" (see klaxon --help)`);
  }
  const command = COMMANDS[name] as Command;
  const values = parseCommand(name, command, argv.slice(name.split(' ').length));
  if (values.help) {
    process.stdout.write(commandHelp(name, command));
    return 0;
  }
  return command.run(values);
}

/** The command's own flags only: one that does not apply to it is refused, named (exit 2). */
function parseCommand(name: string, command: Command, args: string[]): Values {
  const own = Object.fromEntries(
    [...command.flags, 'json', 'help'].map((flag) => [flag, options[flag as Flag]]),
  ) as Partial<typeof options>;
  try {
    return parseArgs({ args, options: own, strict: true }).values as Values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const flag = /'(-[^' ]+)/.exec(error instanceof Error ? error.message : '')?.[1];
    throw new UsageError(
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag
        ? `${flag} does not apply to ${name} (see klaxon ${name} --help)`
        : `${error instanceof Error ? error.message : String(error)} (see klaxon ${name} --help)`,
    );
  }
}

async function integrationsCreate(values: Values): Promise<number> {
  if (!values.service) throw new UsageError('--service is required');
  if (!values.name) throw new UsageError('--name is required');
  if (values.table) notApplying(values, ['url', 'token'], 'with --table');
  else notApplying(values, ['region', 'config'], 'without --table');
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
  if (values.function) notApplying(values, ['url', 'token'], 'with --function');
  else notApplying(values, ['region'], 'without --function');
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
  if (values.table) notApplying(values, ['url', 'token'], 'with --table');
  else notApplying(values, ['region'], 'without --table');
  // By default the previous day in the configured zone, as the nightly rollup picks its day.
  // Action items' deadlines are days in the team's zone: without a config to say which, left out.
  const zone = await timeZoneOf(values.config ?? configPath()).catch(() => undefined);
  const team = zone === undefined ? undefined : { timeZone: zone, today: localDay(new Date(), zone) };
  const to = values.to
    ? dayOption('to', values.to)
    : // Without a config, timeZoneOf says what to give instead.
      previousDay(new Date(), zone ?? (await timeZoneOf(values.config ?? configPath())));
  const range = periods(to, period);
  const [from] = range.previous;
  let rollups: Rollup[];
  let items: FollowedItem[] = [];
  if (values.table) {
    const { store, client } = await tableStore(values.table, values.region);
    try {
      rollups = await store.listRollups(from, to);
      if (team !== undefined)
        items = await withoutExcluded(
          await tableActionItems(values.table, client),
          { from, to, today: team.today },
          async (id) => (await store.get(id))?.excluded === true,
        );
    } finally {
      client.destroy();
    }
  } else {
    // The API answers whole days while they fit one response; `next` is where to go on from.
    rollups = [];
    const client = api(values);
    for (let next: string | undefined = from; next !== undefined; ) {
      const page: { rollups: Rollup[]; next?: string } = await client.json({
        method: 'GET',
        path: '/api/rollups',
        query: { from: next, to },
      });
      rollups.push(...page.rollups);
      next = page.next;
    }
    if (team !== undefined)
      items = await withoutExcluded(
        (await client.json<{ actionItems: FollowedItem[] }>({ method: 'GET', path: '/api/action-items' }))
          .actionItems,
        { from, to, today: team.today },
        async (id) =>
          (
            await client.json<{ incident: { excluded: boolean } }>({
              method: 'GET',
              path: `/api/incidents/${encodeURIComponent(id)}`,
            })
          ).incident.excluded,
      );
  }
  const report = buildReport(rollups, to, period, team === undefined ? undefined : { items, ...team });
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ current: report.current, previous: report.previous, comparisons: report.comparisons, worst: report.worst, recommendations: report.recommendations, actionItems: report.actionItems })}\n`
      : renderReport(report, {
          compareServices: values['compare-services'],
          bySeverity: values['by-severity'],
          verbose: values.verbose,
        }),
  );
  return 0;
}

async function dlqReplay(values: Values): Promise<number> {
  if (values['queue-url']) notApplying(values, ['file', 'url', 'token'], 'with --queue-url');
  else notApplying(values, ['region', 'bus', 'function', 'max'], 'without --queue-url');
  const max = Number(values.max ?? 1000);
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
      url: values.url ?? localUrl(),
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
    const usage = error instanceof UsageError || (error instanceof TypeError && 'code' in error);
    const message = error instanceof Error ? error.message : String(error);
    // A script that asked for JSON gets its error as JSON too (on stderr: stdout stays the result).
    if (process.argv.includes('--json')) {
      const api = error instanceof ApiError ? { status: error.status, errors: error.errors } : {};
      process.stderr.write(`${JSON.stringify({ error: { message, exitCode: usage ? 2 : 1, ...api } })}\n`);
    } else process.stderr.write(`klaxon: ${message}\n`);
    process.exit(usage ? 2 : 1);
  },
);
