import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config';
import { KlaxonStack } from '../../lib/klaxon-stack.ts';

/**
 * cdk-nag's AwsSolutions checks on the whole stack, built once from a config with every kind of
 * contact, schedules, escalation policies and an SLO, plus an export prefix and an alarm topic.
 * Every finding is either fixed or acknowledged next to its resource with a reason; the test
 * fails on any other error or warning and lists them. Bundling is skipped: stack.test.ts covers it.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CDK_CONTEXT = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const base = JSON.parse(readFileSync(path.join(ROOT, 'klaxon.config.json'), 'utf8'));

const config = parseConfig({
  ...base,
  services: base.services.map((service: { id: string }, i: number) =>
    i === 0 ? { ...service, slo: { availability: 99.9, owners: ['carol'] } } : service,
  ),
  responders: [
    {
      id: 'alice',
      name: 'Alice',
      contacts: [
        { type: 'email', address: 'alice@example.com' },
        { type: 'sms', number: '+4915112345678' },
      ],
    },
    { id: 'bob', name: 'Bob', contacts: [{ type: 'webhook', url: 'https://hooks.example.com/klaxon' }] },
    { id: 'carol', name: 'Carol', contacts: [{ type: 'email', address: 'carol@example.com' }] },
  ],
});

/** The rules Klaxon acknowledges somewhere, each with a reason next to the resource. */
const ACKNOWLEDGED_RULES = [
  'AwsSolutions-APIG4',
  'AwsSolutions-IAM5',
  'AwsSolutions-L1',
  'AwsSolutions-SMG4',
  'AwsSolutions-SQS3',
];

interface Finding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
  readonly description: string;
}

let app: App;
let stack: KlaxonStack;

const findings = (scope: IConstruct): Finding[] =>
  new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope).violations.flatMap((v) =>
    v.violatingResources.map((r) => ({
      rule: v.ruleName,
      severity: v.severity ?? 'error',
      path: r.constructPath ?? '?',
      description: v.description,
    })),
  );
const listed = (list: readonly Finding[]): string =>
  list.map((f) => `\n  ${f.severity} ${f.rule} at ${f.path}: ${f.description}`).join('');

/** Every acknowledgement in the tree: where it is, which rule, why. */
const acknowledgements = (scope: IConstruct): { path: string; rule: string; reason: string }[] =>
  scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          rule: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );

beforeAll(() => {
  app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  stack = new KlaxonStack(app, 'Klaxon', {
    stackName: config.name,
    config,
    exportPrefix: 'analytics/',
    alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:klaxon-ops',
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds no unacknowledged error in the stack', () => {
    const errors = findings(app).filter((f) => f.severity === 'error');
    expect(errors, `unacknowledged AwsSolutions errors:${listed(errors)}`).toHaveLength(0);
  });

  it('finds no unacknowledged warning in the stack', () => {
    const warnings = findings(app).filter((f) => f.severity !== 'error');
    expect(warnings, `unacknowledged AwsSolutions warnings:${listed(warnings)}`).toHaveLength(0);
  });

  it('does report what it should (a bucket without TLS or access logs, unacknowledged)', () => {
    const control = new Stack(new App(), 'Control');
    new s3.Bucket(control, 'Bucket');
    const rules = findings(control).map((f) => f.rule);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });
});

describe('acknowledgements', () => {
  it('sit on resources or their constructs, never on the whole stack or app', () => {
    const all = acknowledgements(app);
    expect(all.length).toBeGreaterThan(0);
    for (const { path: at } of all) {
      expect([app.node.path, stack.node.path]).not.toContain(at);
    }
  });

  it('cover only the rules Klaxon has a reason to acknowledge', () => {
    const rules = new Set(acknowledgements(app).map(({ rule }) => rule.replace(/\[.*$/, '')));
    expect([...rules].sort()).toEqual(ACKNOWLEDGED_RULES);
  });

  it('acknowledge wildcard permissions one finding at a time, never the whole IAM5 rule', () => {
    const iam5 = acknowledgements(app).filter(({ rule }) => rule.startsWith('AwsSolutions-IAM5'));
    expect(iam5.length).toBeGreaterThan(0);
    for (const { rule } of iam5) expect(rule).toMatch(/^AwsSolutions-IAM5\[(Resource|Action)::.+\]$/);
  });

  it('each give a specific reason', () => {
    for (const { path: at, rule, reason } of acknowledgements(app)) {
      expect(reason.length, `${rule} at ${at}: "${reason}"`).toBeGreaterThanOrEqual(120);
    }
  });
});
