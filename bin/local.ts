#!/usr/bin/env -S npx tsx
/**
 * `npm start`: the whole Klaxon pipeline on this machine, no AWS account needed.
 *   PORT            HTTP port (default 3000)
 *   HOST            address to listen on (default 127.0.0.1; 0.0.0.0 for Alertmanager/Grafana in Docker)
 *   KLAXON_PUBLIC_URL base URL of links in pages (default the address it listens on, 127.0.0.1 for 0.0.0.0)
 *   KLAXON_DATA_DIR where data survives restarts (default ./.klaxon)
 *   KLAXON_CONFIG   config file (default ./klaxon.config.json)
 *   KLAXON_MINUTE_MS how long one configured minute lasts (default 60000; e.g. 1000 for demos)
 */
import '#local/sdk-warning';
import { ConfigError, KlaxonError } from '#core/errors';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime';
import { configPath as configPathSetting, dataDir as dataDirSetting, host, publicUrl } from '#local/settings';

const port = Number(process.env.PORT ?? 3000);
const dataDir = dataDirSetting();
const configPath = configPathSetting();
const minuteMs = Number(process.env.KLAXON_MINUTE_MS ?? 60_000);
const stamp = () => new Date().toISOString().slice(11, 19);

// Ctrl-C is handled from the first moment: one pressed while Klaxon starts (or just as it printed
// its URLs) waits for the start and closes what it opened, the data folder's lock included.
let starting: Promise<LocalRuntime> | undefined;
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await (await starting?.catch(() => undefined))?.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

try {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      [{ field: 'PORT', message: `must be a port number, got "${process.env.PORT}"` }],
      'environment',
    );
  }
  if (!Number.isInteger(minuteMs) || minuteMs < 1) {
    throw new ConfigError(
      [
        {
          field: 'KLAXON_MINUTE_MS',
          message: `must be a whole number of milliseconds, got "${process.env.KLAXON_MINUTE_MS}"`,
        },
      ],
      'environment',
    );
  }
  const url = publicUrl();
  starting = startLocalRuntime({
    dataDir,
    configPath,
    port,
    host: host(),
    ...(url ? { publicUrl: url } : {}),
    minuteMs,
    log: (line) => console.log(`${stamp()} ${line}`),
  });
  const runtime = await starting;
  const [service, key] = Object.entries(runtime.integrationKeys)[0] ?? [];
  console.log(`
Klaxon is running locally (config ${configPath}, data in ${dataDir})

  Events API v2      POST ${runtime.url}/v2/enqueue
  Alertmanager       POST ${runtime.url}/integrations/alertmanager/<integration key>
  Grafana            POST ${runtime.url}/integrations/grafana/<integration key>
  Incidents          GET  ${runtime.url}/api/incidents        (Authorization: Bearer ${runtime.apiToken})
  Put a bus event    POST ${runtime.url}/local/events         (same token; e.g. a CloudWatch alarm)
  Pages (inbox)      ${runtime.url}/local/inbox${
    minuteMs !== 60_000
      ? `
  Time               one configured minute lasts ${minuteMs} ms (KLAXON_MINUTE_MS)`
      : ''
  }

Integration keys:
${Object.entries(runtime.integrationKeys)
  .map(([s, k]) => `  ${s.padEnd(18)} ${k}`)
  .join('\n')}

Try it (service ${service}):

  curl -s -X POST ${runtime.url}/v2/enqueue -H 'Content-Type: application/json' -d '{"routing_key":"${key}","event_action":"trigger","dedup_key":"disk-full","payload":{"summary":"Disk 95% full on db-1","source":"db-1","severity":"critical"}}'

  curl -s ${runtime.url}/api/incidents -H 'Authorization: Bearer ${runtime.apiToken}'

Ctrl-C stops it.
`);
} catch (error) {
  // Klaxon's own errors (config, busy port, data folder in use) are said in one line; others in full.
  console.error(error instanceof KlaxonError ? error.message : error);
  process.exit(1);
}
