import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledOpenApi } from '#app/env';
import { parseConfig } from '#core/config';
import { openApiDocument } from '#http/openapi';
import { bundleDefine } from '../../lib/bundling.ts';

/**
 * The http function as `cdk deploy` ships it: bundled by esbuild with the stack's `define`
 * (lib/bundling.ts), loaded in a fresh Node process with the stack's environment, and asked for
 * `/openapi.json` through an API Gateway (HTTP API) event — the document built at synth.
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const config = parseConfig(JSON.parse(await readFile(path.join(ROOT, 'klaxon.config.json'), 'utf8')));

describe('bundleDefine', () => {
  it('puts the config in every function, and the gzipped OpenAPI document only where asked', () => {
    const plain = bundleDefine(config);
    expect(Object.keys(plain)).toEqual(['process.env.KLAXON_CONFIG_JSON']);
    expect(JSON.parse(JSON.parse(plain['process.env.KLAXON_CONFIG_JSON'] ?? '""'))).toEqual(config);
    const http = bundleDefine(config, { openApi: true });
    const gz = JSON.parse(http['process.env.KLAXON_OPENAPI_GZ'] ?? '""') as string;
    // Much smaller than the document, and the same at every synth (the asset hash is stable):
    // no mtime, and the OS byte says "unknown" whatever the platform.
    expect(gz.length).toBeLessThan(JSON.stringify(openApiDocument()).length / 4);
    expect(bundleDefine(config, { openApi: true })).toEqual(http);
    const header = Buffer.from(gz, 'base64').subarray(0, 10);
    expect([...header.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(header[9]).toBe(0xff);
    const saved = process.env.KLAXON_OPENAPI_GZ;
    process.env.KLAXON_OPENAPI_GZ = gz;
    try {
      expect(JSON.parse(bundledOpenApi())).toEqual(openApiDocument());
    } finally {
      if (saved === undefined) delete process.env.KLAXON_OPENAPI_GZ;
      else process.env.KLAXON_OPENAPI_GZ = saved;
    }
  });
});

describe('the bundled http function', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    // Inside the project, so that the bundle finds the AWS SDK (left out, as the runtime ships it).
    await mkdir(path.join(ROOT, 'node_modules', '.cache'), { recursive: true });
    dir = await mkdtemp(path.join(ROOT, 'node_modules', '.cache', 'klaxon-http-bundle-'));
    bundle = path.join(dir, 'index.mjs');
    await build({
      absWorkingDir: ROOT,
      entryPoints: [path.join(ROOT, 'lambdas', 'handlers', 'http.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      minify: true,
      external: ['@aws-sdk/*'],
      define: bundleDefine(config, { openApi: true }),
      logLevel: 'warning',
    });
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the OpenAPI document built at synth, without bundling its generator', async () => {
    const source = await readFile(bundle, 'utf8');
    // The generator's own strings are not in the ingest path's code.
    expect(source).not.toContain('Alerts in, incidents out.');
    const probe = `
      const { handler } = await import(process.argv[1]);
      const response = await handler({
        version: '2.0', routeKey: '$default', rawPath: '/openapi.json', rawQueryString: '',
        headers: { host: 'abc.execute-api.us-east-1.amazonaws.com' },
        requestContext: { domainName: 'abc.execute-api.us-east-1.amazonaws.com', http: { method: 'GET', path: '/openapi.json', sourceIp: '127.0.0.1' } },
        isBase64Encoded: false,
      }, { awsRequestId: 'test', getRemainingTimeInMillis: () => 10_000 });
      process.stdout.write(JSON.stringify(response));
    `;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '--eval', probe, pathToFileURL(bundle).href],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          POWERTOOLS_LOG_LEVEL: 'WARN',
          TABLE_NAME: 'klaxon-test',
          EVENT_BUS_NAME: 'klaxon-test',
          PAGES_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:pages',
          SCHEDULE_GROUP_NAME: 'klaxon-test-timers',
          SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/scheduler',
          SCHEDULER_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:timers-dlq',
          ESCALATE_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:escalate',
          ACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ack',
        },
      },
    );
    const response = JSON.parse(stdout) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual(openApiDocument());
  }, 30_000);
});
