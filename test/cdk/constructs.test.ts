import { readFileSync } from 'node:fs';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { type KlaxonConfig, parseConfig } from '#core/config';
import { ROUTES, type Route } from '#core/routing';
import { KlaxonApi } from '../../lib/constructs/api.ts';
import { KlaxonEventBus } from '../../lib/constructs/event-bus.ts';
import { EventRoutes, toCdkPattern } from '../../lib/constructs/event-routes.ts';
import { KlaxonFunction, type KlaxonFunctionProps } from '../../lib/constructs/klaxon-function.ts';
import { IncidentStore } from '../../lib/constructs/store.ts';

const config: KlaxonConfig = parseConfig(
  JSON.parse(readFileSync(new URL('../../klaxon.config.json', import.meta.url), 'utf8')),
);
const newStack = () => new Stack(new App(), 'Test');
const importedFunction = (stack: Stack) =>
  lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-central-1:123456789012:function:f');

describe('KlaxonFunction', () => {
  const props: KlaxonFunctionProps = {
    entry: 'lambdas/handlers/process-alert.ts',
    serviceName: 'klaxon-test',
    invocation: 'async',
    config,
  };

  it.each([
    ['64 MB', { memorySize: 64 }, /memorySize/],
    ['fractional MB', { memorySize: 512.5 }, /memorySize/],
    ['a 16 min timeout', { timeout: Duration.minutes(16) }, /timeout/],
    ['a service name with spaces', { serviceName: 'has spaces' }, /serviceName/],
    ['a blank entry', { entry: ' ' }, /entry/],
  ] as const)('rejects %s', (_label, override, message) => {
    expect(() => new KlaxonFunction(newStack(), 'F', { ...props, ...override })).toThrow(message);
  });

  it("lets the caller's environment add to and override its own", () => {
    const stack = newStack();
    new KlaxonFunction(stack, 'F', {
      ...props,
      invocation: 'sync',
      environment: { FEATURE: 'on', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'klaxon-test',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
          FEATURE: 'on',
        },
      },
    });
    Template.fromStack(stack).resourceCountIs('AWS::SQS::Queue', 0);
  });
});

describe('EventRoutes', () => {
  const build = (overrides: Partial<ConstructorParameters<typeof EventRoutes>[2]>) => {
    const stack = newStack();
    const bus = new KlaxonEventBus(stack, 'Bus');
    return new EventRoutes(stack, 'Routes', {
      klaxonBus: bus.eventBus,
      targets: { processAlert: importedFunction(stack) },
      ...overrides,
    });
  };
  const route = ROUTES[0] as Route;

  it.each([
    ['duplicate route ids', { routes: [route, route] }, /duplicate route id/],
    ['no routes', { routes: [] }, /must not be empty/],
    ['an empty pattern', { routes: [{ ...route, pattern: {} }] }, /empty pattern/],
    ['186 retries', { retryAttempts: 186 }, /retryAttempts/],
    ['a 25 h event age', { maxEventAge: Duration.hours(25) }, /maxEventAge/],
    ['a 30 s event age', { maxEventAge: Duration.seconds(30) }, /maxEventAge/],
  ] as const)('rejects %s', (_label, override, message) => {
    expect(() => build(override as Partial<ConstructorParameters<typeof EventRoutes>[2]>)).toThrow(message);
  });

  it('rejects a route whose target has no function', () => {
    expect(() => build({ targets: {} as never })).toThrow(/has no function/);
  });

  it('converts wire-form keys to CDK names and passes content filters through', () => {
    expect(
      toCdkPattern({ source: ['a'], 'detail-type': ['b'], detail: { service: [{ prefix: 'check' }] } }),
    ).toEqual({ source: ['a'], detailType: ['b'], detail: { service: [{ prefix: 'check' }] } });
    expect(() => toCdkPattern({ 'detail-typo': ['x'] } as never)).toThrow(/detail-typo/);
  });
});

describe('IncidentStore', () => {
  it('refuses RemovalPolicy.DESTROY while deletion protection is on', () => {
    expect(() => new IncidentStore(newStack(), 'S', { removalPolicy: RemovalPolicy.DESTROY })).toThrow(
      /deletionProtection/,
    );
  });
});

describe('KlaxonEventBus', () => {
  it('refuses to take the name of the default bus', () => {
    expect(() => new KlaxonEventBus(newStack(), 'B', { eventBusName: 'default' })).toThrow(/default/);
  });

  it('can run without an archive', () => {
    const stack = newStack();
    new KlaxonEventBus(stack, 'B', { archiveRetention: Duration.days(0) });
    Template.fromStack(stack).resourceCountIs('AWS::Events::Archive', 0);
  });
});

describe('KlaxonApi', () => {
  it.each([
    ['a zero burst', { burstLimit: 0 }, /burstLimit/],
    ['a zero rate', { rateLimit: 0 }, /rateLimit/],
    ['a relative IAM path', { iamAuthorizedPaths: ['api/{proxy+}'] }, /iamAuthorizedPaths/],
  ] as const)('rejects %s', (_label, override, message) => {
    const stack = newStack();
    expect(() => new KlaxonApi(stack, 'Api', { handler: importedFunction(stack), ...override })).toThrow(
      message,
    );
  });
});
