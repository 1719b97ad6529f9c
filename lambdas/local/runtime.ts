import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import * as z from 'zod/mini';
import { DynamoDbActionItemStore } from '#adapters/aws/action-item-store';
import { documentClient } from '#adapters/aws/dynamodb-client';
import { DynamoDbIncidentStore } from '#adapters/aws/dynamodb-store';
import { ensureTable, startDynalite } from '#adapters/local/dynalite';
import { LocalEventBus } from '#adapters/local/event-bus';
import { FolderExportSink } from '#adapters/local/folder-export-sink';
import { LocalEventPublisher, LogMetricsPublisher } from '#adapters/local/metrics';
import { LocalContactDirectory, LocalPager } from '#adapters/local/pager';
import { LocalTimers } from '#adapters/local/timers';
import { handleAlertEvent } from '#app/alert-event';
import type { CommandDeps } from '#app/command';
import { checkContacts } from '#app/contacts';
import { createIntegration } from '#app/ingest';
import { AckLinks } from '#app/links';
import { type Clock, systemClock } from '#app/ports';
import { type RollupDeps, runNightlyRollup, runRollups } from '#app/rollup';
import { handleTimerEvent } from '#app/timers';
import { newLinkSecret } from '#core/ack-token';
import type { KlaxonConfig } from '#core/config';
import { ConfigError, KlaxonError } from '#core/errors';
import { hashIntegrationKey, randomId } from '#core/ids';
import { daysBetween } from '#core/metrics';
import { parseOrThrow } from '#core/validation';
import { AWS_REGION } from '#formats/cloudwatch';
import { createHttpApp } from '#http/app';
import { errorResponse } from '#http/errors';
import { DataDirInUseError, lockDataDir, lockHolder } from './data-lock.ts';
import { inboxPage } from './inbox-page.ts';
import { startNightlyRollup } from './nightly.ts';
import { isLoopback, loadConfigFile } from './settings.ts';

export const TABLE_NAME = 'klaxon';

export interface LocalRuntimeOptions {
  /** Where dynalite's LevelDB files, generated keys and dead letters live. */
  readonly dataDir: string;
  /** The config file (JSON). */
  readonly configPath: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The address to listen on (HOST): 127.0.0.1 by default; 0.0.0.0 lets containers in. */
  readonly host?: string;
  /** The base URL of links in pages and of `url` (KLAXON_PUBLIC_URL); by default the listening one. */
  readonly publicUrl?: string;
  readonly clock?: Clock;
  /** How long one configured minute lasts (KLAXON_MINUTE_MS): speeds escalation up for demos. */
  readonly minuteMs?: number;
  readonly log?: (line: string) => void;
  /** How much JSON one GET /api/rollups answer carries at most (tests make it small). */
  readonly rollupsResponseBytes?: number;
}

export interface LocalRuntime {
  /** Where this machine reaches the runtime (or the configured public URL): links in pages start with it. */
  readonly url: string;
  readonly config: KlaxonConfig;
  /** Plain integration keys by service, generated on first start and kept in the data folder. */
  readonly integrationKeys: Readonly<Record<string, string>>;
  readonly apiToken: string;
  readonly bus: LocalEventBus;
  readonly store: DynamoDbIncidentStore;
  readonly timers: LocalTimers;
  readonly pager: LocalPager;
  /** The use cases' dependencies, as the handlers get them (tests drive them directly). */
  readonly deps: CommandDeps;
  close(): Promise<void>;
}

/**
 * The whole pipeline on one machine: dynalite (persisted), the same Hono app, the same
 * process-alert use case behind an in-process bus that matches the same routes as the stack.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? (() => {});
  const clock = options.clock ?? systemClock;
  const config = await loadConfigFile(options.configPath);
  const dataDir = resolve(options.dataDir);
  // Starting twice on one folder is the likelier mistake than a busy port: say that first.
  const holder = await lockHolder(dataDir);
  if (holder !== undefined) throw new DataDirInUseError(options.dataDir, holder);

  // The port next, before the data folder is created or touched, so that a busy one leaves
  // nothing behind. Until the app is built, requests are answered 503.
  const starting = () => Response.json({ message: 'starting, try again', errors: [] }, { status: 503 });
  let handle: (request: Request) => Response | Promise<Response> = starting;
  const host = options.host ?? '127.0.0.1';
  const server = await listen((request) => handle(request), options.port, host);
  const url = options.publicUrl ?? ownUrl(host, (server.address() as AddressInfo).port);
  if (!isLoopback(host)) {
    log(
      `HOST=${host} is not a loopback address: other machines and containers can reach Klaxon, and its API is protected by the bearer token alone; links in pages use ${url} (KLAXON_PUBLIC_URL sets another)`,
    );
  }
  // What a failed start opened is closed again, in reverse (in-process callers go on running).
  const opened: (() => Promise<void>)[] = [() => new Promise((done) => server.close(() => done()))];
  const undo = async (error: unknown): Promise<never> => {
    for (const close of opened.reverse()) await close().catch(() => {});
    throw error;
  };

  opened.push(await lockDataDir(dataDir, options.dataDir).catch(undo));
  await mkdir(join(dataDir, 'dynamodb'), { recursive: true }).catch(undo);
  const dynamo = await startDynalite({ path: join(dataDir, 'dynamodb') }).catch(undo);
  opened.push(() => dynamo.close());
  await ensureTable(dynamo.client, TABLE_NAME).catch(undo);
  const db = documentClient(dynamo.client);
  const store = new DynamoDbIncidentStore({ tableName: TABLE_NAME, client: db });

  const secrets = await loadSecrets(dataDir, config, clock, store).catch(undo);

  const bus = new LocalEventBus({
    log,
    onDeadLetter: (letter) => {
      log(`bus: dead letter on ${letter.route}: ${letter.error}`);
      void appendFile(join(dataDir, 'dead-letters.jsonl'), `${JSON.stringify(letter)}\n`);
    },
  });
  const timers = new LocalTimers({
    db,
    tableName: TABLE_NAME,
    clock,
    log,
    onDeadLetter: (timer) => {
      log(`timers: dead letter ${timer.name}: ${timer.error}`);
      void appendFile(
        join(dataDir, 'dead-letters.jsonl'),
        `${JSON.stringify({ timer, at: clock().toISOString() })}\n`,
      );
    },
  });
  const pager = new LocalPager({ timeZone: config.timeZone, file: join(dataDir, 'inbox.jsonl'), log, clock });
  // The inbox shows the pages of earlier runs too (their links still work), the last 200.
  await pager.restore(200).catch(undo);
  // Links point at this server (PORT may be 0: its URL is the one it listens on), or the public URL.
  const deps: CommandDeps = {
    store,
    actionItems: new DynamoDbActionItemStore({ tableName: TABLE_NAME, client: db }),
    events: new LocalEventPublisher(bus),
    timers,
    pager,
    clock,
    config,
    links: new AckLinks({ publicUrl: () => url, secret: async () => secrets.linkSecret }),
    ...(options.minuteMs ? { minuteMs: options.minuteMs } : {}),
  };
  bus.register('processAlert', async (event) => {
    const outcome = await handleAlertEvent(event, deps);
    const incident = outcome.kind === 'ignored' ? outcome.incident : outcome.incident;
    log(
      `alert ${event.id}: ${outcome.kind}${incident ? ` incident ${incident.id} (${incident.service})` : ''}`,
    );
  });
  timers.target(async (input) => {
    const outcome = await handleTimerEvent(input, deps);
    log(`timer ${JSON.stringify(input)}: ${outcome}`);
  });

  const apiAuth: MiddlewareHandler = bearerAuth({
    token: secrets.apiToken,
    noAuthenticationHeader: {
      message: {
        message: "missing bearer token (apiToken in the data folder's secrets.json; npm start prints it)",
        errors: [],
      },
    },
    invalidToken: { message: { message: 'invalid bearer token', errors: [] } },
    invalidAuthenticationHeader: { message: { message: 'invalid Authorization header', errors: [] } },
  });
  const app = createHttpApp({
    ...deps,
    bus,
    apiAuth,
    ...(options.rollupsResponseBytes === undefined
      ? {}
      : { rollupsResponseBytes: options.rollupsResponseBytes }),
    log: (level, message, data) => log(`${level}: ${message} ${data ? JSON.stringify(data) : ''}`),
  });

  // Local only: put an event on either bus, as PutEvents would (CloudWatch alarms, native producers).
  app.post('/local/events', apiAuth, async (c) => {
    try {
      const entry = parseOrThrow(LocalPutEvent, await c.req.json().catch(() => undefined), 'event');
      const event = bus.put(entry.bus, {
        source: entry.source,
        'detail-type': entry['detail-type'],
        detail: entry.detail,
        ...(entry.time ? { time: entry.time } : {}),
        ...(entry.resources ? { resources: entry.resources } : {}),
        ...(entry.region ? { region: entry.region } : {}),
      });
      return c.json({ id: event.id }, 202);
    } catch (error) {
      return errorResponse(c, error, 'api');
    }
  });

  // Local only: re-deliver a dead-lettered event as it was — same id, so the same idempotency keys.
  app.post('/local/events/redeliver', apiAuth, async (c) => {
    try {
      const { bus: name, event } = parseOrThrow(
        Redeliver,
        await c.req.json().catch(() => undefined),
        'redelivery',
      );
      bus.deliver(name, {
        version: '0',
        account: '000000000000',
        region: 'us-east-1',
        resources: [],
        ...event,
      });
      return c.json({ id: event.id }, 202);
    } catch (error) {
      return errorResponse(c, error, 'api');
    }
  });

  // Local only: fire a timer's input now, as Scheduler would deliver it (re-driving dead letters).
  app.post('/local/timers', apiAuth, async (c) => {
    try {
      const outcome = await handleTimerEvent(await c.req.json().catch(() => undefined), deps);
      return c.json({ outcome });
    } catch (error) {
      return errorResponse(c, error, 'api');
    }
  });

  // Rollups: the nightly run at the configured local time, and on demand.
  const metrics = new LogMetricsPublisher(log);
  const rollupDeps: RollupDeps = { ...deps, sink: new FolderExportSink(join(dataDir, 'exports')), metrics };
  app.post('/local/rollups', apiAuth, async (c) => {
    try {
      const input = parseOrThrow(LocalRollup, await c.req.json().catch(() => undefined), 'rollup');
      const days = 'day' in input ? [input.day] : daysBetween(input.from, input.to);
      const results = await runRollups(days, rollupDeps);
      return c.json({
        results: results.map((r) => ({
          day: r.day,
          incidents: r.incidents,
          itemsRead: r.itemsRead,
          files: r.files,
          budgets: r.budgets,
        })),
      });
    } catch (error) {
      return errorResponse(c, error, 'api');
    }
  });
  const nightly = startNightlyRollup(
    config,
    clock,
    async (day) => {
      // The nightly run re-rolls the recent days that changed since (app/rollup.ts), like the Lambda.
      const results = await runNightlyRollup(day, rollupDeps);
      for (const result of results)
        log(`rollup ${result.day}: ${result.incidents} incidents, exports in ${join(dataDir, 'exports')}`);
    },
    log,
  );

  // The contact check, on demand: locally every page reaches the inbox, so every contact is
  // reachable (LocalContactDirectory) and it finds nothing; in AWS it runs every hour.
  app.post('/local/contacts/check', apiAuth, async (c) => {
    try {
      const result = await checkContacts({
        ...deps,
        metrics,
        directory: new LocalContactDirectory(),
        warn: (message, data) => log(`warn: ${message} ${JSON.stringify(data)}`),
      });
      return c.json(result);
    } catch (error) {
      return errorResponse(c, error, 'api');
    }
  });

  // Local only: the inbox of pages the local pager sent (a stand-in for email and SMS).
  app.get('/local/inbox', async (c) => c.html(inboxPage(pager.inbox, await timers.pending())));
  app.get('/local/inbox.json', (c) => c.json({ messages: pager.inbox }));

  handle = app.fetch;
  timers.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    config,
    integrationKeys: secrets.integrationKeys,
    apiToken: secrets.apiToken,
    bus,
    store,
    timers,
    pager,
    deps,
    close() {
      closing ??= (async () => {
        await new Promise<void>((done) => server.close(() => done()));
        clearInterval(nightly);
        await timers.stop();
        await bus.drain();
        // The server (closed first) and the lock (released last) remain of what a start opens.
        for (const close of opened.slice(1).reverse()) await close();
      })();
      return closing;
    },
  };
}

/** The port is taken: `npm start` is told to pick another. */
export class PortInUseError extends KlaxonError {
  constructor(readonly port: number) {
    super(`port ${port} is in use: set PORT=… (e.g. PORT=${port === 3100 ? 3200 : 3100} npm start)`);
  }
}

/**
 * The URL a browser on this machine opens: a wildcard address (0.0.0.0, ::) is none, and a link
 * to http://0.0.0.0:3000 would lead nowhere; IPv6 addresses go in brackets.
 */
function ownUrl(host: string, port: number): string {
  const address = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Serves `fetch` on host:port once listening; a busy port is a PortInUseError, a host that is no
 * address of this machine (or no name it can resolve) a ConfigError naming HOST.
 */
async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
  hostname: string,
): Promise<ServerType> {
  const server = serve({ fetch, port, hostname });
  await new Promise<void>((ready, fail) => {
    server.once('listening', ready);
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(port)
          : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
            ? new ConfigError(
                [
                  {
                    field: 'HOST',
                    message: `cannot listen on ${hostname} (${error.code}): it must be an address of this machine, such as 127.0.0.1 or 0.0.0.0`,
                  },
                ],
                'environment',
              )
            : error,
      ),
    );
  });
  return server;
}

const LocalPutEvent = z.object({
  bus: z._default(z.enum(['klaxon', 'default']), 'klaxon'),
  source: z.string().check(z.minLength(1), z.maxLength(256)),
  'detail-type': z.string().check(z.minLength(1), z.maxLength(128)),
  detail: z.record(z.string(), z.unknown()),
  time: z.optional(z.iso.datetime({ offset: true })),
  resources: z.optional(z.array(z.string()).check(z.maxLength(100))),
  region: z.optional(z.string().check(z.regex(AWS_REGION, 'must be an AWS region such as eu-west-1'))),
});

const Redeliver = z.object({
  bus: z.enum(['klaxon', 'default']),
  event: z.object({
    id: z.string().check(z.minLength(1), z.maxLength(128)),
    source: z.string().check(z.minLength(1), z.maxLength(256)),
    'detail-type': z.string().check(z.minLength(1), z.maxLength(128)),
    time: z.iso.datetime({ offset: true }),
    detail: z.record(z.string(), z.unknown()),
    account: z.optional(z.string()),
    region: z.optional(z.string()),
    resources: z.optional(z.array(z.string()).check(z.maxLength(100))),
    version: z.optional(z.literal('0')),
  }),
});

const Day = z.iso.date();
const LocalRollup = z.union([z.object({ day: Day }), z.object({ from: Day, to: Day })]);

const Secrets = z.object({
  apiToken: z.string().check(z.minLength(16)),
  linkSecret: z.string().check(z.minLength(32)),
  integrationKeys: z.record(z.string(), z.string()),
});

/**
 * Local secrets, generated on first start and kept in `<dataDir>/secrets.json` (mode 0600):
 * the API bearer token and one integration key per configured service. Only the keys' hashes
 * go into the table, as in AWS.
 */
async function loadSecrets(
  dataDir: string,
  config: KlaxonConfig,
  clock: Clock,
  store: DynamoDbIncidentStore,
): Promise<z.output<typeof Secrets>> {
  const path = join(dataDir, 'secrets.json');
  let secrets: z.output<typeof Secrets>;
  try {
    secrets = Secrets.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    secrets = { apiToken: randomId(), linkSecret: newLinkSecret(), integrationKeys: {} };
  }
  for (const service of config.services) {
    const existing = secrets.integrationKeys[service.id];
    if (existing !== undefined && (await store.findIntegration(hashIntegrationKey(existing))) !== undefined)
      continue;
    const created = await createIntegration(store, {
      service: service.id,
      name: `${service.name} (local)`,
      now: clock(),
      ...(existing ? { key: existing } : {}),
    });
    secrets.integrationKeys[service.id] = created.integrationKey;
  }
  await writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
