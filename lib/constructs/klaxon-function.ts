import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { KlaxonConfig } from '#core/config';

/** The repository root: entries are resolved against it, and it is esbuild's project root. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Defines `require` in the ESM bundle, for CommonJS dependencies that call it. */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/**
 * How the function is invoked. `async` (EventBridge, Scheduler, SNS) gets Lambda's own retries
 * and a dead-letter queue for events that still fail; `sync` (API Gateway) has the caller to
 * retry, so a DLQ would never receive anything.
 */
export type Invocation = 'async' | 'sync';

export interface KlaxonFunctionProps {
  /** Handler source file, relative to the project root (or absolute). */
  readonly entry: string;
  /**
   * Exported handler function name.
   * @default 'handler'
   */
  readonly handler?: string;
  /** `POWERTOOLS_SERVICE_NAME`: how the function names itself in logs and metrics. */
  readonly serviceName: string;
  /** The validated Klaxon config the stack was synthesized from; embedded into the bundle. */
  readonly config: KlaxonConfig;
  /** Whether the function is invoked asynchronously (gets a DLQ and 2 retries) or synchronously. */
  readonly invocation: Invocation;
  /**
   * Extra environment variables, merged with (and taking precedence over) the wrapper's own.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * `POWERTOOLS_LOG_LEVEL`.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Memory in MB (128..10240).
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Timeout (1 s..15 min).
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Active X-Ray tracing.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Function description.
   * @default - none
   */
  readonly description?: string;
}

/**
 * The one way Klaxon defines a Lambda function: Node.js 22 on arm64, an ESM bundle with source
 * maps, a log group with retention, the synthesized config embedded, and — for asynchronously
 * invoked functions — a dead-letter queue. The caller's environment is merged, never dropped.
 */
export class KlaxonFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;
  /** Events that failed every async attempt. Only for `invocation: 'async'`. */
  readonly deadLetterQueue: sqs.Queue | undefined;

  constructor(scope: Construct, id: string, props: KlaxonFunctionProps) {
    super(scope, id);
    const memorySize = props.memorySize ?? 512;
    const timeout = props.timeout ?? Duration.seconds(10);
    validate(props, memorySize, timeout);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    this.deadLetterQueue =
      props.invocation === 'async'
        ? new sqs.Queue(this, 'DeadLetterQueue', {
            encryption: sqs.QueueEncryption.SQS_MANAGED,
            enforceSSL: true,
            retentionPeriod: Duration.days(14),
          })
        : undefined;

    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      ...props.environment,
    };

    this.function = new nodejs.NodejsFunction(this, 'Resource', {
      entry: path.resolve(PROJECT_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout,
      logGroup: this.logGroup,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment,
      ...(props.description === undefined ? {} : { description: props.description }),
      ...(this.deadLetterQueue === undefined
        ? {}
        : { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2 }),
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The nodejs22.x runtime ships the AWS SDK v3: leaving it out keeps bundles small and
        // cold starts short. The price is that the runtime's SDK version, not package-lock's, runs.
        externalModules: ['@aws-sdk/*'],
        // The handler reads the very config this stack was synthesized from. A string literal
        // holding JSON (hence the double stringify); changing the config changes the asset hash.
        define: { 'process.env.KLAXON_CONFIG_JSON': JSON.stringify(JSON.stringify(props.config)) },
      },
    });
  }
}

function validate(props: KlaxonFunctionProps, memorySize: number, timeout: Duration): void {
  if (props.entry.trim() === '') throw new Error('KlaxonFunction: entry must not be empty');
  if (!/^[\w.-]{1,128}$/.test(props.serviceName)) {
    throw new Error(`KlaxonFunction: serviceName "${props.serviceName}" must be 1-128 of [A-Za-z0-9_.-]`);
  }
  if (
    !Token.isUnresolved(memorySize) &&
    (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240)
  ) {
    throw new Error(`KlaxonFunction: memorySize must be an integer in 128..10240 MB, got ${memorySize}`);
  }
  if (!timeout.isUnresolved()) {
    const seconds = timeout.toSeconds();
    if (seconds < 1 || seconds > 900) {
      throw new Error(`KlaxonFunction: timeout must be 1 s..15 min, got ${seconds} s`);
    }
  }
}
