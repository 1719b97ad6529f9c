import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { parseConfig } from '#core/config';
import { bundleDefine } from '../lib/bundling.ts';
import { ARN, type BenchOptions, type BenchResult, fmt, PUBLIC_URL, progress, type Row } from './harness.ts';
import { median, round } from './stats.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = path.join(ROOT, 'bench-results', 'bundles');

/** The same as lib/constructs/klaxon-function.ts: `require` defined in the ESM bundle. */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

const HANDLERS = ['http', 'api', 'process-alert', 'escalate', 'rollup'] as const;
/** The goal read strictly: 250 KB as 250,000 bytes (not 250 KiB). */
const LIMIT_BYTES = 250_000;

/** What the stack puts in every function's environment (lib/klaxon-stack.ts), as dummy values. */
const ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  TABLE_NAME: 'klaxon-bench',
  EVENT_BUS_NAME: 'klaxon-bench',
  PAGES_TOPIC_ARN: ARN.topic,
  SCHEDULE_GROUP_NAME: 'klaxon-bench-timers',
  SCHEDULER_ROLE_ARN: ARN.schedulerRole,
  SCHEDULER_DLQ_ARN: ARN.schedulerDlq,
  ESCALATE_FUNCTION_ARN: ARN.escalate,
  ACK_SECRET_ARN: ARN.secret,
  PUBLIC_URL,
  EXPORT_BUCKET: 'klaxon-bench-exports',
  EXPORT_PREFIX: 'klaxon/',
  POWERTOOLS_METRICS_NAMESPACE: 'Klaxon',
};

/** Runs in a fresh Node process: imports one module, prints how long the import took. */
const PROBE = `
const t0 = performance.now();
const mod = await import(process.argv[1]);
const ms = performance.now() - t0;
if (typeof mod.handler !== 'function') throw new Error('no handler export');
process.stdout.write(JSON.stringify({ ms }));
`;

/** The same, after importing the SDK packages first: what the bundle's own code costs. */
const PROBE_OWN = `
for (const m of JSON.parse(process.argv[2])) await import(m);
const t0 = performance.now();
const mod = await import(process.argv[1]);
const ms = performance.now() - t0;
if (typeof mod.handler !== 'function') throw new Error('no handler export');
process.stdout.write(JSON.stringify({ ms }));
`;

async function loadTime(
  file: string,
  serviceName: string,
  nodeOptions = '',
  preload?: readonly string[],
): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    [
      '--input-type=module',
      '--eval',
      preload ? PROBE_OWN : PROBE,
      pathToFileURL(file).href,
      ...(preload ? [JSON.stringify(preload)] : []),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...ENV,
        POWERTOOLS_SERVICE_NAME: serviceName,
        NODE_OPTIONS: nodeOptions,
        // Lambda runs Node 22; here the SDK would print its Node 20 notice in every bundle process.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  return (JSON.parse(stdout) as { ms: number }).ms;
}

/** Diagnostics: PROBE_OWN under `--cpu-prof`, the profile written next to the bundle. */
async function cpuProfile(file: string, serviceName: string, preload: readonly string[]): Promise<void> {
  await run(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${path.dirname(file)}`,
      '--input-type=module',
      '--eval',
      PROBE_OWN,
      pathToFileURL(file).href,
      JSON.stringify(preload),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...ENV,
        POWERTOOLS_SERVICE_NAME: serviceName,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
}

export interface BundleFigures {
  readonly handler: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sdkImports: string[];
  readonly loadMs: number;
  readonly floorMs: number;
  readonly ratio: number;
  readonly loadMsSourceMaps?: number;
  /** The bundle's own code: its import time with the SDK packages already loaded. */
  readonly ownMs: number;
  readonly samples: { bundle: number[]; floor: number[]; sourceMaps: number[]; own: number[] };
}

export async function runBundles(
  options: BenchOptions,
): Promise<BenchResult & { data: { bundles: BundleFigures[] } }> {
  const processes = options.quick ? 3 : 9;
  const config = parseConfig(JSON.parse(await readFile(path.join(ROOT, 'klaxon.config.json'), 'utf8')));
  await rm(OUT, { recursive: true, force: true });
  const figures: BundleFigures[] = [];
  for (const handler of HANDLERS) {
    progress(`bundles: esbuild ${handler}`);
    const outfile = path.join(OUT, handler, 'index.mjs');
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: [path.join(ROOT, 'lambdas', 'handlers', `${handler}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: { js: ESM_REQUIRE_BANNER },
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      external: ['@aws-sdk/*'],
      define: bundleDefine(config, { openApi: handler === 'http' }),
      metafile: true,
      logLevel: 'warning',
    });
    const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
    const sdkImports = [
      ...new Set(
        (output?.imports ?? [])
          .filter((i) => i.external && i.path.startsWith('@aws-sdk/'))
          .map((i) => i.path),
      ),
    ].sort();
    const floorFile = path.join(OUT, `floor-${handler}`, 'index.mjs');
    await mkdir(path.dirname(floorFile), { recursive: true });
    await writeFile(
      floorFile,
      `${sdkImports.map((m) => `import '${m}';`).join('\n')}\nexport const handler = async () => {};\n`,
    );
    const bytes = (await stat(outfile)).size;
    const gzipBytes = gzipSync(await readFile(outfile)).length;

    // One discarded run of each warms the file cache; then bundle and floor alternate.
    const service = `klaxon-${handler}`;
    await loadTime(outfile, service);
    await loadTime(floorFile, service);
    const samples = {
      bundle: [] as number[],
      floor: [] as number[],
      sourceMaps: [] as number[],
      own: [] as number[],
    };
    for (let i = 0; i < processes; i++) {
      samples.bundle.push(await loadTime(outfile, service));
      samples.floor.push(await loadTime(floorFile, service));
      samples.own.push(await loadTime(outfile, service, '', sdkImports));
      if (!options.quick) samples.sourceMaps.push(await loadTime(outfile, service, '--enable-source-maps'));
    }
    // Diagnostics, not part of the figures: KLAXON_BENCH_CPU_PROFILE=1 writes a CPU profile of one
    // more process (SDK packages first, then the bundle) next to the bundle; open it in DevTools.
    if (process.env.KLAXON_BENCH_CPU_PROFILE === '1') {
      await cpuProfile(outfile, service, sdkImports);
      progress(`bundles: ${handler} CPU profile in ${path.relative(ROOT, path.dirname(outfile))}`);
    }
    const loadMs = median(samples.bundle);
    const floorMs = median(samples.floor);
    figures.push({
      handler,
      bytes,
      gzipBytes,
      sdkImports,
      loadMs: round(loadMs, 1),
      floorMs: round(floorMs, 1),
      ratio: round(loadMs / floorMs, 3),
      ownMs: round(median(samples.own), 1),
      ...(samples.sourceMaps.length > 0 ? { loadMsSourceMaps: round(median(samples.sourceMaps), 1) } : {}),
      samples,
    });
    progress(
      `bundles: ${handler} ${fmt.kb(bytes)}, load ${fmt.ms(loadMs)} vs floor ${fmt.ms(floorMs)} (median of ${processes})`,
    );
  }

  const rows: Row[] = [];
  for (const f of figures) {
    rows.push({
      bench: 'bundles',
      measure: `${f.handler}: size (minified)`,
      klaxon: `${fmt.kb(f.bytes)} (gzip ${fmt.kb(f.gzipBytes)})`,
      floor: fmt.kb(LIMIT_BYTES),
      ratio: fmt.x(f.bytes / LIMIT_BYTES),
      goal: '≤ 250 KB',
      met: f.bytes <= LIMIT_BYTES ? 'met' : 'NOT MET',
    });
    rows.push({
      bench: 'bundles',
      measure: `${f.handler}: cold module load, median of ${processes}`,
      klaxon: `${fmt.ms(f.loadMs)} (own code ${fmt.ms(f.ownMs)}${f.loadMsSourceMaps === undefined ? '' : `; ${fmt.ms(f.loadMsSourceMaps)} with source maps`})`,
      floor: `${fmt.ms(f.floorMs)} (${f.sdkImports.length} SDK pkgs)`,
      ratio: fmt.x(f.ratio),
      goal: '≤ 1.3×',
      met: f.ratio <= 1.3 ? 'met' : 'NOT MET',
    });
  }
  return { name: 'bundles', rows, data: { processes, bundles: figures } };
}
