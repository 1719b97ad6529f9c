/**
 * `npm run bench [-- --quick] [-- --only calls,storms]`: Klaxon against its floors, on local
 * engines in this process. Progress goes to stderr, the final table (Markdown) to stdout, and
 * everything measured to bench-results/latest.json. Not part of `npm test`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleFigures } from './bundles.ts';
import type { CallsData } from './calls.ts';
import type { BenchOptions, BenchResult, Row } from './harness.ts';

// Lambda runs Node 22; on Node 20 the SDK prints a support notice when its first client is built.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const NAMES = ['calls', 'open-latency', 'storms', 'bundles', 'rollup', 'timers', 'cost'] as const;
type Name = (typeof NAMES)[number];

function parseArgs(argv: readonly string[]): { options: BenchOptions; only: Set<Name> } {
  const quick = argv.includes('--quick');
  const i = argv.indexOf('--only');
  const only = new Set<Name>(
    i >= 0
      ? ((argv[i + 1] ?? '').split(',').filter((n) => (NAMES as readonly string[]).includes(n)) as Name[])
      : NAMES,
  );
  const unknown = argv.filter(
    (a, k) => a.startsWith('--') && a !== '--quick' && a !== '--only' && argv[k - 1] !== '--only',
  );
  if (unknown.length > 0 || only.size === 0) {
    process.stderr.write(`usage: npm run bench -- [--quick] [--only ${NAMES.join(',')}]\n`);
    process.exit(2);
  }
  return { options: { quick }, only };
}

function markdown(rows: readonly Row[]): string {
  const header = ['Benchmark', 'Measure', 'Klaxon', 'Floor', 'Ratio', 'Goal', 'Met'];
  const cells = rows.map((r) => [r.bench, r.measure, r.klaxon, r.floor, r.ratio, r.goal, r.met]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) => `| ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { options, only } = parseArgs(process.argv.slice(2));
  const { closeEngines, progress } = await import('./harness.ts');
  const started = Date.now();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    /** 1-minute load average when the run started: other work on the machine skews timings. */
    loadAtStart: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
  progress(
    `Klaxon benchmarks${options.quick ? ' (--quick)' : ''}: ${[...only].join(', ')} on ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`,
  );

  const results: Partial<Record<Name, BenchResult>> = {};
  const failures: string[] = [];
  const runOne = async (name: Name, bench: () => Promise<BenchResult>) => {
    progress(`== ${name}`);
    const t0 = Date.now();
    try {
      const result = await bench();
      results[name] = { ...result, seconds: Math.round((Date.now() - t0) / 100) / 10 };
      progress(`== ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${name}: ${message}`);
      progress(`== ${name} FAILED: ${message}`);
      await closeEngines();
      results[name] = {
        name,
        rows: [
          {
            bench: name,
            measure: 'run',
            klaxon: `failed: ${String((error as Error).message ?? error).slice(0, 120)}`,
            floor: '—',
            ratio: '—',
            goal: '—',
            met: 'NOT MET',
          },
        ],
        data: { error: message },
      };
    }
  };

  if (only.has('calls') || only.has('cost')) {
    const { runCalls } = await import('./calls.ts');
    await runOne('calls', () => runCalls(options));
  }
  if (only.has('open-latency')) {
    const { runOpenLatency } = await import('./open-latency.ts');
    await runOne('open-latency', () => runOpenLatency(options));
  }
  if (only.has('storms')) {
    const { runStorms } = await import('./storms.ts');
    await runOne('storms', () => runStorms(options));
  }
  if (only.has('bundles')) {
    const { runBundles } = await import('./bundles.ts');
    await runOne('bundles', () => runBundles(options));
  }
  if (only.has('rollup')) {
    const { runRollupBench } = await import('./rollup.ts');
    await runOne('rollup', () => runRollupBench(options));
  }
  if (only.has('timers')) {
    const { runTimers } = await import('./timers.ts');
    await runOne('timers', () => runTimers(options));
  }
  if (only.has('cost')) {
    const { runCost } = await import('./cost.ts');
    const calls = results.calls?.data as CallsData | undefined;
    const bundles = (results.bundles?.data as { bundles?: BundleFigures[] } | undefined)?.bundles ?? [];
    if (calls?.operations) await runOne('cost', async () => runCost(calls, bundles));
    else failures.push('cost: needs the calls benchmark, which failed');
  }

  const rows = NAMES.flatMap((name) => results[name]?.rows ?? []);
  const seconds = Math.round((Date.now() - started) / 1000);
  const date = new Date().toISOString();
  const file = path.join(fileURLToPath(new URL('../', import.meta.url)), 'bench-results', 'latest.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    `${JSON.stringify(
      {
        date,
        mode: options.quick ? 'quick' : 'full',
        machine: { ...machine, loadAtEnd: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 },
        seconds,
        rows,
        results: Object.fromEntries(
          Object.entries(results).map(([name, r]) => [name, { seconds: r.seconds, data: r.data }]),
        ),
        failures,
      },
      null,
      2,
    )}\n`,
  );
  progress(`wrote ${path.relative(process.cwd(), file)}; total ${seconds} s`);

  const notMet = rows.filter((r) => r.met === 'NOT MET').length;
  process.stdout.write(
    `\nKlaxon benchmarks, ${date.slice(0, 10)}, ${options.quick ? 'quick' : 'full'} run, ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}, load ${machine.loadAtStart} → ${Math.round((os.loadavg()[0] ?? 0) * 100) / 100}; ${seconds} s\n\n`,
  );
  process.stdout.write(`${markdown(rows)}\n\n`);
  process.stdout.write(
    `${rows.filter((r) => r.met === 'met').length} goals met, ${notMet} not met${failures.length ? `, ${failures.length} benchmark(s) failed` : ''}.\n`,
  );
  if (failures.length > 0) process.exitCode = 1;
}

await main();
// A benchmark that failed may leave a timer or a socket behind; the report is written, so end here.
process.stdout.write('', () => process.exit());
