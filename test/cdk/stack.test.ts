import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config';
import { ConfigError } from '#core/errors';
import { ROUTES } from '#core/routing';
import { buildKlaxonApp, loadConfig } from '../../lib/app.ts';
import type { KlaxonStack } from '../../lib/klaxon-stack.ts';
import { actions, resources, type Statement, templateReader } from '../support/cdk.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The same feature flags `cdk synth` runs with. */
const CDK_CONTEXT = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;

let app: App;
let stack: KlaxonStack;
let template: Template;
const { ref, resourceOf, policyStatementsOf } = templateReader(() => ({ stack, template }));

/** Resolves a construct attribute (ARN, name) to the token the template holds for it. */
/** The template body of a construct's CloudFormation resource, looked up through the construct. */
const statements = (): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );

beforeAll(() => {
  // Synthesized once for the whole file: bundling runs esbuild per function.
  app = new App({ context: { ...CDK_CONTEXT, config: path.join(ROOT, 'klaxon.config.json') } });
  stack = buildKlaxonApp(app);
  template = Template.fromStack(stack);
});

describe('the stack', () => {
  it('is named after the config', () => {
    expect(stack.stackName).toBe(loadConfig(path.join(ROOT, 'klaxon.config.json')).name);
  });

  it('exposes the ingest URL, API URL, bus name, table name and pages topic as outputs', () => {
    template.hasOutput('IngestUrl', {
      Value: {
        'Fn::Join': [
          '',
          Match.arrayWith([ref(stack.api.httpApi.apiId), Match.stringLikeRegexp('/v2/enqueue$')]),
        ],
      },
    });
    template.hasOutput('ApiUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith([ref(stack.api.httpApi.apiId)])] },
    });
    template.hasOutput('EventBusName', { Value: ref(stack.bus.eventBus.eventBusName) });
    template.hasOutput('TableName', { Value: ref(stack.store.table.tableName) });
    template.hasOutput('PagesTopicArn', { Value: ref(stack.paging.topic.topicArn) });
  });
});

describe('the incident store', () => {
  it('is one table keyed by pk/sk with TTL on expiresAt, billed per request', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('has gsi1 (incidents by service), gsi2 (all incidents by time), gsi3 (incidents by day), string keys', () => {
    const gsi = (name: string) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: `${name}pk`, KeyType: 'HASH' },
        { AttributeName: `${name}sk`, KeyType: 'RANGE' },
      ],
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: [
        Match.objectLike(gsi('gsi1')),
        Match.objectLike(gsi('gsi2')),
        Match.objectLike(gsi('gsi3')),
      ],
      AttributeDefinitions: Match.arrayWith(
        ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ),
    });
  });

  it('survives mistakes: point-in-time recovery, deletion protection, KMS encryption, retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          }),
        ],
      }),
    });
  });
});

describe('the Klaxon event bus', () => {
  it('is a named custom bus with a 7-day archive for replays', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `${stack.stackName}-bus` });
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: ref(stack.bus.eventBus.eventBusArn),
      RetentionDays: 7,
      KmsKeyIdentifier: Match.absent(),
    });
  });
});

describe('event routes', () => {
  it('creates exactly one rule per route', () => {
    template.resourceCountIs('AWS::Events::Rule', ROUTES.length);
  });

  it.each(ROUTES.map((route) => [route.id, route] as const))(
    '%s: the exact wire-form pattern on the right bus, to its function, retried, with a DLQ',
    (_id, route) => {
      const functions = { processAlert: stack.processAlert.function };
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: route.bus === 'klaxon' ? ref(stack.bus.eventBus.eventBusName) : 'default',
        EventPattern: Match.exact(route.pattern),
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: ref(functions[route.target].functionArn),
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 },
            DeadLetterConfig: { Arn: ref(stack.routes.deliveryDeadLetterQueue.queueArn) },
          }),
        ],
      });
    },
  );

  it('lets EventBridge write to the delivery DLQ only from these rules', () => {
    const policies = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: { Queues: [ref(stack.routes.deliveryDeadLetterQueue.queueUrl)] },
    });
    const allows = Object.values(policies)
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((s: { Effect: string }) => s.Effect === 'Allow');
    for (const allow of allows) {
      expect(allow).toMatchObject({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
      });
    }
    const sourceArns = allows.map(
      (s: { Condition: { ArnEquals: Record<string, unknown> } }) => s.Condition.ArnEquals['aws:SourceArn'],
    );
    expect(sourceArns).toEqual(Object.values(stack.routes.rules).map((rule) => ref(rule.ruleArn)));
  });
});

describe('paging with the example config', () => {
  it('creates the pages topic with one subscription per contact of klaxon.config.json', () => {
    const contacts = loadConfig(path.join(ROOT, 'klaxon.config.json')).responders.flatMap((r) => r.contacts);
    expect(contacts.length).toBeGreaterThan(0);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', contacts.length);
  });
});

describe('functions', () => {
  const all = () => [stack.processAlert, stack.http, stack.escalate, stack.rollup];

  it.each([
    ['process-alert', () => stack.processAlert, 'klaxon-process-alert'],
    ['http', () => stack.http, 'klaxon-http'],
    ['escalate', () => stack.escalate, 'klaxon-escalate'],
  ] as const)(
    '%s runs Node.js 22 on arm64 with the wrapper env merged with the stack env',
    (_name, fn, service) => {
      const props = resourceOf(fn().function).Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        LoggingConfig: { LogGroup: ref(fn().logGroup.logGroupName) },
        Environment: {
          Variables: {
            // The wrapper's own...
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: service,
            POWERTOOLS_LOG_LEVEL: 'INFO',
            // ...merged with the caller's, not replaced by them.
            TABLE_NAME: ref(stack.store.table.tableName),
            EVENT_BUS_NAME: ref(stack.bus.eventBus.eventBusName),
            PAGES_TOPIC_ARN: ref(stack.paging.topic.topicArn),
            // SNS puts it before every SMS ("KLAXON> "): the SMS is rendered with it counted in.
            PAGES_TOPIC_DISPLAY_NAME: 'Klaxon',
            SCHEDULE_GROUP_NAME: ref(stack.timers.groupName),
            SCHEDULER_ROLE_ARN: ref(stack.timers.role.roleArn),
            SCHEDULER_DLQ_ARN: ref(stack.timers.dlq.queueArn),
            ESCALATE_FUNCTION_ARN: ref(stack.escalateFunctionArn),
            ACK_SECRET_ARN: ref(stack.ackSecret.secret.secretArn),
          },
        },
      });
    },
  );

  it('gives process-alert and escalate the API base URL, without trailing slash, for links in pages', () => {
    for (const fn of [stack.processAlert, stack.escalate]) {
      expect(resourceOf(fn.function).Properties).toMatchObject({
        Environment: { Variables: { PUBLIC_URL: ref(stack.api.httpApi.apiEndpoint) } },
      });
    }
    // ApiEndpoint is https://<api id>.execute-api.<region>.<suffix>: the $default stage's URL
    // (the ApiUrl output) without its trailing "/".
    expect(stack.api.baseUrl).toBe(stack.api.httpApi.apiEndpoint);
  });

  it('gives http no PUBLIC_URL without config.publicUrl (its own URL would be circular)', () => {
    const env = (resourceOf(stack.http.function).Properties.Environment as { Variables: object }).Variables;
    expect(env).not.toHaveProperty('PUBLIC_URL');
  });

  it('bundles the OpenAPI document into the http function only (it serves /openapi.json)', () => {
    expect(all().map((fn) => fn.bundlesOpenApi)).toEqual([false, true, false, false]);
    expect(stack.apiFunction.bundlesOpenApi).toBe(false);
  });

  it('keeps function logs for a month', () => {
    for (const fn of all()) {
      expect(resourceOf(fn.logGroup).Properties).toMatchObject({ RetentionInDays: 30 });
    }
  });

  it.each([
    ['process-alert', () => stack.processAlert],
    ['escalate', () => stack.escalate],
  ] as const)('gives the async %s function 2 retries and an encrypted, TLS-only DLQ', (_name, fn) => {
    const dlq = fn().deadLetterQueue;
    expect(dlq).toBeDefined();
    expect(resourceOf(fn().function).Properties).toMatchObject({
      DeadLetterConfig: { TargetArn: ref(dlq?.queueArn ?? '') },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(fn().function.functionName),
      MaximumRetryAttempts: 2,
    });
    expect(resourceOf(dlq as IConstruct).Properties).toMatchObject({ SqsManagedSseEnabled: true });
  });

  it('names the escalate function after the stack, so its ARN is known without a reference', () => {
    const name = `${stack.stackName}-escalate`;
    expect(resourceOf(stack.escalate.function).Properties.FunctionName).toBe(name);
    // Pseudo parameters and the name only: no reference to the function (which holds it in its env).
    expect(ref(stack.escalateFunctionArn)).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':lambda:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:function:${name}`,
        ],
      ],
    });
  });

  it('gives the synchronously invoked http function no DLQ', () => {
    expect(stack.http.deadLetterQueue).toBeUndefined();
    expect(resourceOf(stack.http.function).Properties.DeadLetterConfig).toBeUndefined();
  });

  it('encrypts every queue and denies non-TLS access to it', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    // DLQs of process-alert, escalate, rollup, the event rules, the escalation timers, the nightly
    // schedule and the SNS subscriptions.
    expect(Object.keys(queues)).toHaveLength(7);
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('bundles each handler as ESM with a require shim, the synthesized config, and no AWS SDK', () => {
    const outdir = app.synth().directory;
    const config = loadConfig(path.join(ROOT, 'klaxon.config.json'));
    const s3Key = resourceOf(stack.processAlert.function).Properties.Code as { S3Key: string };
    const bundle = readFileSync(
      path.join(outdir, `asset.${s3Key.S3Key.replace(/\.zip$/, '')}`, 'index.mjs'),
      'utf8',
    );
    expect(bundle.startsWith("import { createRequire } from 'module'; const require = createRequire")).toBe(
      true,
    );
    // Plain booleans: a failing toContain would print the whole bundle.
    expect(bundle.includes(JSON.stringify(config)), 'config embedded').toBe(true);
    expect(/from\s*"@aws-sdk\/client-dynamodb"/.test(bundle), 'SDK imported, not bundled').toBe(true);
  });
});

describe('permissions', () => {
  it('lets every function read and write the table, and nothing but the table and its indexes', () => {
    const tableArn = ref(stack.store.table.tableArn);
    for (const fn of [stack.processAlert, stack.http, stack.escalate]) {
      const dynamo = policyStatementsOf(fn.function.role?.roleName ?? '').filter((s) =>
        actions(s).some((a) => a.startsWith('dynamodb:')),
      );
      expect(dynamo).toHaveLength(1);
      expect(actions(dynamo[0] as Statement)).toEqual(
        expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
        ]),
      );
      expect(resources(dynamo[0] as Statement)).toEqual([
        tableArn,
        { 'Fn::Join': ['', [tableArn, '/index/*']] },
      ]);
    }
  });

  // http puts alerts; http, api, process-alert and escalate put incident lifecycle events
  // (docs/EVENTS.md); the rollup puts "Error Budget Exhausted".
  it.each([
    ['http', () => stack.http],
    ['api', () => stack.apiFunction],
    ['process-alert', () => stack.processAlert],
    ['escalate', () => stack.escalate],
    ['rollup', () => stack.rollup],
  ] as const)('lets %s put events on the Klaxon bus only', (_name, fn) => {
    const putEvents = policyStatementsOf(fn().function.role?.roleName ?? '').filter((s) =>
      actions(s).includes('events:PutEvents'),
    );
    expect(putEvents).toEqual([
      expect.objectContaining({ Effect: 'Allow', Resource: ref(stack.bus.eventBus.eventBusArn) }),
    ]);
  });

  it('lets nothing else put events', () => {
    const allowed = [stack.http, stack.apiFunction, stack.processAlert, stack.escalate, stack.rollup].map(
      (fn) => ref(fn.function.role?.roleName ?? ''),
    );
    const putters = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        (policy.Properties.PolicyDocument.Statement as Statement[]).some((s) =>
          actions(s).some((a) => a === 'events:PutEvents' || a === 'events:*'),
        ),
      )
      .flatMap((policy) => policy.Properties.Roles as unknown[]);
    expect(putters).toHaveLength(allowed.length);
    expect(putters).toEqual(expect.arrayContaining(allowed));
    // No role carries an inline policy of its own that could put events either.
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      const inline = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
      expect(inline.flatMap((p) => p.PolicyDocument.Statement).flatMap(actions)).not.toContain(
        'events:PutEvents',
      );
    }
  });

  it('never grants Action "*", nor Resource "*" but to the SNS reads that accept no other', () => {
    const all = statements();
    expect(all.length).toBeGreaterThan(0);
    // The contact check's reads of the account's SMS opt-outs and sandbox (Paging.grantContactCheck).
    const accountReads = [
      'sns:CheckIfPhoneNumberIsOptedOut',
      'sns:GetSMSSandboxAccountStatus',
      'sns:ListSMSSandboxPhoneNumbers',
    ];
    for (const s of all) {
      expect(actions(s)).not.toContain('*');
      if (resources(s).includes('*')) expect(actions(s)).toEqual(accountReads);
    }
  });
});

describe('the HTTP API', () => {
  /** The function a route's integration invokes, and the route's authorization. */
  function route(key: string): { functionArn: unknown; authorization: unknown } {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter(
      (r) => r.Properties.RouteKey === key,
    );
    expect(routes).toHaveLength(1);
    const target = routes[0]?.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
    const integration = template.findResources('AWS::ApiGatewayV2::Integration')[
      target['Fn::Join'][1][1].Ref
    ];
    expect(integration?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    return {
      functionArn: integration?.Properties.IntegrationUri,
      authorization: routes[0]?.Properties.AuthorizationType ?? 'NONE',
    };
  }

  it('sends ingest and links to the http function through the $default route', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    expect(route('$default')).toEqual({
      functionArn: ref(stack.http.function.functionArn),
      authorization: 'NONE',
    });
  });

  it('puts the management API behind IAM auth, in its own function', () => {
    expect(route('ANY /api/{proxy+}')).toEqual({
      functionArn: ref(stack.apiFunction.function.functionArn),
      authorization: 'AWS_IAM',
    });
  });

  it('throttles the $default stage and writes JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: {
        DestinationArn: ref(stack.api.accessLogGroup.logGroupArn),
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
  });

  it('keeps secrets out of the access log: no path (integration keys, signed link tokens)', () => {
    const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stages).toHaveLength(1);
    const format = String(stages[0]?.Properties.AccessLogSettings.Format);
    expect(format).toContain('$context.routeKey');
    expect(format).not.toMatch(/\$context\.(path|rawPath|resourcePath)|\$request/);
  });
});

describe('invalid config', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-cdk-'));
  const write = (name: string, body: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
    return file;
  };
  const valid = JSON.parse(readFileSync(path.join(ROOT, 'klaxon.config.json'), 'utf8'));

  it('fails synth with a message naming the field', () => {
    const file = write('unknown-service.json', { ...valid, cloudwatch: { defaultService: 'nope' } });
    const build = () => buildKlaxonApp(new App({ context: { config: file } }));
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/cloudwatch\.defaultService: unknown service "nope"/);
  });

  it('reads the config KLAXON_CONFIG names, as npm start does, unless -c config names one', () => {
    const fromEnv = write('from-env.json', { ...valid, cloudwatch: { defaultService: 'env-only' } });
    const fromContext = write('from-context.json', { ...valid, cloudwatch: { defaultService: 'ctx-only' } });
    const env = { KLAXON_CONFIG: fromEnv };
    expect(() => buildKlaxonApp(new App(), env)).toThrow(/unknown service "env-only"/);
    expect(() => buildKlaxonApp(new App({ context: { config: fromContext } }), env)).toThrow(
      /unknown service "ctx-only"/,
    );
  });

  it('names each bad field, as parseConfig does', () => {
    const file = write('no-services.json', { ...valid, services: [], timeZone: 'Mars/Olympus' });
    expect(() => loadConfig(file)).toThrow(/services/);
    expect(() => loadConfig(file)).toThrow(/timeZone/);
    expect(() => parseConfig({ ...valid, services: [] })).toThrow(/services/);
  });

  it('rejects a name CloudFormation cannot use as a stack name', () => {
    expect(() => loadConfig(write('bad-name.json', { ...valid, name: 'my klaxon' }))).toThrow(
      /name: must start/,
    );
  });

  it('rejects a name too long for the "<name>-escalate" function (64 characters)', () => {
    expect(loadConfig(write('name-55.json', { ...valid, name: `k${'x'.repeat(54)}` })).name).toHaveLength(55);
    expect(() => loadConfig(write('name-56.json', { ...valid, name: `k${'x'.repeat(55)}` }))).toThrow(
      /name: must be at most 55 characters/,
    );
  });

  it('names the file when it is not JSON or missing', () => {
    expect(() => loadConfig(write('broken.json', '{ nope'))).toThrow(/broken\.json is not JSON/);
    expect(() => loadConfig(path.join(dir, 'missing.json'))).toThrow(/cannot read .*missing\.json/);
  });

  it('makes the app entry exit non-zero with just the message', () => {
    const file = write('cli.json', { ...valid, services: [] });
    const result = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['bin/app.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: file }), CDK_OUTDIR: dir },
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toMatch(/^invalid Klaxon config: services: /);
  });
});

describe('context values (`cdk deploy -c key=value`)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-cdk-context-'));
  const valid = JSON.parse(readFileSync(path.join(ROOT, 'klaxon.config.json'), 'utf8'));
  /** A config with `endpoints` email contacts, one responder each, beside the example's own. */
  const configWith = (endpoints: number): string => {
    const file = path.join(dir, `endpoints-${endpoints}.json`);
    const extra = Array.from({ length: endpoints }, (_, i) => ({
      id: `person-${i}`,
      name: `Person ${i}`,
      contacts: [{ type: 'email', address: `person${i}@example.com` }],
    }));
    writeFileSync(file, JSON.stringify({ ...valid, responders: [...valid.responders, ...extra] }));
    return file;
  };
  const build = (context: Record<string, unknown>) =>
    buildKlaxonApp(new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context } }));
  const exampleEndpoints = (valid.responders as { contacts: unknown[] }[]).reduce(
    (n, r) => n + r.contacts.length,
    0,
  );

  it("apiRateLimit / apiBurstLimit: the API stage's throttle", () => {
    const stack = build({ apiRateLimit: '500', apiBurstLimit: '1000' });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
    expect(() => build({ apiRateLimit: 'lots' })).toThrow(/apiRateLimit/);
  });

  it('filterPoliciesPerTopic: more contact endpoints than SNS allows per topic fail synth, not deploy', () => {
    const file = configWith(201 - exampleEndpoints);
    expect(() => build({ config: file })).toThrow(ConfigError);
    expect(() => build({ config: file })).toThrow(/201 contact endpoints .* SNS allows 200 per topic/);
    // A quota AWS raised, passed as the CLI passes it: a string.
    const stack = build({ config: file, filterPoliciesPerTopic: '201' });
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Subscription', 201);
  });

  it('alarmTopicArn: every dead-letter-queue alarm, and the unreachable-contacts alarm, notifies that topic', () => {
    const topic = 'arn:aws:sns:eu-central-1:123456789012:ops-alarms';
    const stack = build({ config: path.join(ROOT, 'klaxon.config.json'), alarmTopicArn: topic });
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(Object.keys(stack.monitoring.deadLetterAlarms).length + 1);
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic]);
  });

  it.each([
    'arn:aws:sqs:eu-central-1:123456789012:ops-alarms',
    'ops-alarms',
    'arn:aws:sns:eu-central-1:123456789012:ops alarms',
    '',
  ])('alarmTopicArn "%s" is refused by name', (value) => {
    const run = () => build({ config: path.join(ROOT, 'klaxon.config.json'), alarmTopicArn: value });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/alarmTopicArn \(context\): must be an SNS topic ARN/);
  });

  it.each(['0', 'many', '1.5', '-1', ''])('filterPoliciesPerTopic "%s" is refused by name', (value) => {
    expect(() =>
      build({ config: path.join(ROOT, 'klaxon.config.json'), filterPoliciesPerTopic: value }),
    ).toThrow(/filterPoliciesPerTopic \(context\): must be a positive integer/);
  });
});
