import { describe, expect, it } from 'vitest';
import { type KlaxonConfig, parseConfig } from '#core/config';
import { ConfigError } from '#core/errors';
import {
  alarmConsoleUrl,
  cloudWatchToAlert,
  parseCloudWatchAlarmEvent,
  routeCloudWatchAlarm,
} from '#formats/cloudwatch';
import { badFields, expectCanonical, fieldErrors, fixture, REMOVE, withField } from './helpers.ts';

const alarm = fixture('cloudwatch-alarm.json');
const metricMath = fixture('cloudwatch-metric-math.json');
const composite = fixture('cloudwatch-composite-alarm.json');

const config: KlaxonConfig = parseConfig({
  services: [
    { id: 'platform', name: 'Platform' },
    { id: 'payments', name: 'Payments' },
    { id: 'database', name: 'Database' },
    { id: 'search', name: 'Search' },
  ],
  cloudwatch: {
    defaultService: 'platform',
    defaultSeverity: 'warning',
    rules: [
      { alarmNamePrefix: 'Payments', service: 'payments', severity: 'critical' },
      { tag: { key: 'team', value: 'db' }, service: 'database', severity: 'error' },
      { tag: { key: 'klaxon:service' }, service: 'search' },
      { alarmNamePrefix: 'Total', tag: { key: 'env', value: 'prod' }, service: 'payments', severity: 'info' },
    ],
  },
});

const RECEIVED = '2019-10-02T17:04:41.200Z';
const normalize = (event: unknown, tags?: Record<string, string>) =>
  cloudWatchToAlert(parseCloudWatchAlarmEvent(event), config, RECEIVED, tags);

describe('CloudWatch alarm state change: mapping', () => {
  it('turns a single-metric alarm going to ALARM into a trigger with every field mapped', () => {
    const alert = normalize(alarm);
    expect(alert).toEqual({
      eventKey: 'cloudwatch:c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      service: 'platform',
      dedupKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh',
      action: 'trigger',
      summary:
        'ServerCpuTooHigh: Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).',
      source: 'InstanceId=i-12345678901234567',
      severity: 'warning',
      occurredAt: '2019-10-02T17:04:40.989Z',
      receivedAt: RECEIVED,
      group: 'AWS/EC2',
      class: 'CPUUtilization',
      description: 'Goes into alarm when server CPU utilization is too high!',
      details: {
        alarmName: 'ServerCpuTooHigh',
        alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh',
        account: '123456789012',
        region: 'us-east-1',
        description: 'Goes into alarm when server CPU utilization is too high!',
        state: {
          reason:
            'Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).',
          reasonData:
            '{"version":"1.0","queryDate":"2019-10-02T17:04:40.985+0000","startDate":"2019-10-02T16:59:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[99.50160229693434],"threshold":50.0}',
          timestamp: '2019-10-02T17:04:40.989+0000',
          value: 'ALARM',
        },
        previousState: {
          reason:
            'Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).',
          reasonData:
            '{"version":"1.0","queryDate":"2019-10-01T13:56:40.985+0000","startDate":"2019-10-01T13:46:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[0.0666851903306472],"threshold":50.0}',
          timestamp: '2019-10-01T13:56:40.987+0000',
          value: 'OK',
        },
        configuration: {
          description: 'Goes into alarm when server CPU utilization is too high!',
          metrics: [
            {
              id: '30b6c6b2-a864-43a2-4877-c09a1afc3b87',
              metricStat: {
                metric: {
                  dimensions: { InstanceId: 'i-12345678901234567' },
                  name: 'CPUUtilization',
                  namespace: 'AWS/EC2',
                },
                period: 300,
                stat: 'Average',
              },
              returnData: true,
            },
          ],
        },
      },
      links: [
        {
          href: 'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/ServerCpuTooHigh',
          text: 'CloudWatch alarm',
        },
      ],
      images: [],
      origin: 'cloudwatch',
    });
    expectCanonical(alert);
  });

  it.each([
    ['ALARM', 'trigger'],
    ['OK', 'resolve'],
    ['INSUFFICIENT_DATA', 'record'],
  ])('turns state %s into action %s on the same dedup key', (value, action) => {
    const alert = normalize(withField(alarm, 'detail.state.value', value));
    expect(alert.action).toBe(action);
    expect(alert.dedupKey).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh');
  });

  it('describes a metric-math alarm by the first metric it reads', () => {
    const alert = normalize(metricMath);
    expect(alert.source).toBe('InstanceId=i-12345678901234567');
    expect(alert.group).toBe('AWS/EC2');
    expect(alert.class).toBe('NetworkIn');
    expect(alert.occurredAt).toBe('2019-10-02T17:20:48.554Z');
    expectCanonical(alert);
  });

  it('handles a composite alarm: its rule, the child alarms that triggered it, and its suppression', () => {
    const alert = normalize(composite);
    expect(alert.action).toBe('trigger');
    expect(alert.dedupKey).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServiceAggregatedAlarm');
    expect(alert.eventKey).toBe('cloudwatch:d3dfc86d-384d-24c8-0345-9f7986db0b80');
    expect(alert.summary).toBe(
      'ServiceAggregatedAlarm: arn:aws:cloudwatch:us-east-1:123456789012:alarm:SuppressionDemo.EventBridge.FirstChild transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC',
    );
    expect(alert.source).toBe('123456789012/us-east-1');
    expect(alert.class).toBe('CompositeAlarm');
    expect(alert.group).toBeUndefined();
    expect(alert.occurredAt).toBe('2022-07-22T15:57:45.394Z');
    expect(alert.details.triggeringAlarms).toEqual([
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh',
    ]);
    expect(alert.details.configuration).toEqual({
      alarmRule: 'ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)',
      actionsSuppressor: 'ServiceMaintenanceAlarm',
      actionsSuppressorWaitPeriod: 120,
      actionsSuppressorExtensionPeriod: 180,
    });
    expect(alert.details.state).toMatchObject({
      actionsSuppressedBy: 'WaitPeriod',
      actionsSuppressedReason: 'Actions suppressed by WaitPeriod',
    });
    expect(alert.details.description).toBeNull();
    expectCanonical(alert);
  });

  it('keeps a composite alarm whose reasonData is not JSON', () => {
    const alert = normalize(withField(composite, 'detail.state.reasonData', 'not json'));
    expect(alert.details.triggeringAlarms).toBeUndefined();
  });

  it('truncates a long reason to a 1024-character summary', () => {
    const alert = normalize(withField(alarm, 'detail.state.reason', 'r'.repeat(3000)));
    expect(alert.summary).toHaveLength(1024);
    expect(alert.summary.startsWith('ServerCpuTooHigh: rrr')).toBe(true);
    expect(alert.summary.endsWith('…')).toBe(true);
  });

  it('uses the state value as reason when CloudWatch gives none', () => {
    expect(normalize(withField(alarm, 'detail.state.reason', REMOVE)).summary).toBe(
      'ServerCpuTooHigh: ALARM',
    );
  });

  it('links to the alarm in the console, encoding names with spaces', () => {
    const alert = normalize(withField(alarm, 'detail.alarmName', 'EC2 CPU Utilization Anomaly'));
    expect(alert.links).toEqual([
      {
        href: 'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/EC2%20CPU%20Utilization%20Anomaly',
        text: 'CloudWatch alarm',
      },
    ]);
    expectCanonical(alert);
  });

  it('links China and GovCloud alarms to their own consoles', () => {
    expect(alarmConsoleUrl('cn-north-1', 'a')).toBe(
      'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/a',
    );
    expect(alarmConsoleUrl('us-gov-west-1', 'a')).toBe(
      'https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#alarmsV2:alarm/a',
    );
  });

  const inRegion = (region: string, partition: string) =>
    withField(withField(alarm, 'region', region), 'resources', [
      `arn:${partition}:cloudwatch:${region}:123456789012:alarm:ServerCpuTooHigh`,
    ]);

  it('accepts alarms from every partition, linking each to its own console', () => {
    const links = (region: string, partition: string) => {
      const alert = normalize(inRegion(region, partition));
      expectCanonical(alert);
      expect(alert.dedupKey).toBe(
        `arn:${partition}:cloudwatch:${region}:123456789012:alarm:ServerCpuTooHigh`,
      );
      expect(alert.details.region).toBe(region);
      return alert.links.map((l) => l.href);
    };
    expect(links('cn-north-1', 'aws-cn')).toEqual([
      'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/ServerCpuTooHigh',
    ]);
    expect(links('us-gov-west-1', 'aws-us-gov')).toEqual([
      'https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#alarmsV2:alarm/ServerCpuTooHigh',
    ]);
    expect(links('eu-central-1', 'aws')).toEqual([
      'https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/ServerCpuTooHigh',
    ]);
  });

  it('accepts European Sovereign Cloud alarms (eusc-de-east-1, arn:aws-eusc), with no console link it cannot confirm', () => {
    const alert = normalize(inRegion('eusc-de-east-1', 'aws-eusc'));
    expectCanonical(alert);
    expect(alert).toMatchObject({
      action: 'trigger',
      dedupKey: 'arn:aws-eusc:cloudwatch:eusc-de-east-1:123456789012:alarm:ServerCpuTooHigh',
      summary: expect.stringMatching(/^ServerCpuTooHigh: /),
      links: [],
    });
    // Never a commercial-console link for another partition's alarm, whatever the ARN or region says.
    expect(alarmConsoleUrl('eusc-de-east-1', 'a')).toBeUndefined();
    expect(
      alarmConsoleUrl('eu-central-1', 'a', 'arn:aws-eusc:cloudwatch:eu-central-1:1:alarm:a'),
    ).toBeUndefined();
    expect(alarmConsoleUrl('us-iso-east-1', 'a')).toBeUndefined();
  });

  it('keeps dedup keys of very long alarm ARNs within 255 characters, the same each time', () => {
    const name = 'N'.repeat(255);
    const arn = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;
    const event = withField(withField(alarm, 'detail.alarmName', name), 'resources', [arn]);
    const alert = normalize(event);
    expect(alert.dedupKey).toHaveLength(255);
    expect(alert.dedupKey.startsWith('arn:aws:cloudwatch:us-east-1:123456789012:alarm:NNN')).toBe(true);
    expect(normalize(event).dedupKey).toBe(alert.dedupKey);
    expectCanonical(alert);
  });

  it('ignores fields CloudWatch adds that Klaxon does not know, and keeps them in details', () => {
    const alert = normalize(withField(alarm, 'detail.state.evaluationState', 'PARTIAL_DATA'));
    expect(alert.details.state).toMatchObject({ evaluationState: 'PARTIAL_DATA' });
  });
});

describe('CloudWatch alarm state change: routing to a service', () => {
  it('uses the first rule whose alarm-name prefix matches, with its severity', () => {
    const alert = normalize(withField(alarm, 'detail.alarmName', 'PaymentsApiErrors'));
    expect([alert.service, alert.severity]).toEqual(['payments', 'critical']);
  });

  it('falls back to the default service and severity', () => {
    expect(routeCloudWatchAlarm('ServerCpuTooHigh', config)).toEqual({
      service: 'platform',
      severity: 'warning',
    });
  });

  it('matches tag rules on the tags the caller looked up', () => {
    expect([normalize(alarm, { team: 'db' }).service, normalize(alarm, { team: 'db' }).severity]).toEqual([
      'database',
      'error',
    ]);
    expect(normalize(alarm, { team: 'web' }).service).toBe('platform');
  });

  it('matches a tag rule without value on the tag key alone, with the default rule severity', () => {
    expect(routeCloudWatchAlarm('Anything', config, { 'klaxon:service': 'whatever' })).toEqual({
      service: 'search',
      severity: 'critical',
    });
  });

  it('matches tag rules on tags CloudWatch propagated into the event', () => {
    const alert = normalize(withField(alarm, 'detail.alarmTags', { team: 'db', cost: 42 }));
    expect(alert.service).toBe('database');
    expect(alert.details.tags).toEqual({ team: 'db' });
  });

  it('prefers the tags the caller passes over propagated ones', () => {
    expect(normalize(withField(alarm, 'detail.alarmTags', { team: 'db' }), { team: 'web' }).service).toBe(
      'platform',
    );
  });

  it('needs both the prefix and the tag when a rule has both', () => {
    expect(routeCloudWatchAlarm('TotalNetworkTrafficTooHigh', config).service).toBe('platform');
    expect(routeCloudWatchAlarm('TotalNetworkTrafficTooHigh', config, { env: 'prod' })).toEqual({
      service: 'payments',
      severity: 'info',
    });
  });

  it('takes rules in order: an earlier rule wins', () => {
    expect(routeCloudWatchAlarm('PaymentsDb', config, { team: 'db' }).service).toBe('payments');
  });

  it('refuses to route alarms when the config has no cloudwatch section, saying so', () => {
    const bare = parseConfig({ services: [{ id: 'platform', name: 'Platform' }] });
    const event = parseCloudWatchAlarmEvent(alarm);
    expect(() => cloudWatchToAlert(event, bare, RECEIVED)).toThrow(ConfigError);
    expect(() => cloudWatchToAlert(event, bare, RECEIVED)).toThrow(
      'invalid Klaxon config: cloudwatch: CloudWatch routing is not configured: add a cloudwatch section with a defaultService',
    );
  });
});

describe('CloudWatch alarm state change: bad input names the field', () => {
  it('refuses an unknown state value', () => {
    expect(
      fieldErrors(() => parseCloudWatchAlarmEvent(withField(alarm, 'detail.state.value', 'BROKEN'))),
    ).toEqual([{ field: 'detail.state.value', message: 'must be one of ALARM, OK, INSUFFICIENT_DATA' }]);
  });

  it('refuses an event without the alarm ARN', () => {
    expect(badFields(() => parseCloudWatchAlarmEvent(withField(alarm, 'resources', [])))).toEqual([
      'resources',
    ]);
  });

  it('refuses other EventBridge events', () => {
    const configChange = withField(alarm, 'detail-type', 'CloudWatch Alarm Configuration Change');
    expect(badFields(() => parseCloudWatchAlarmEvent(configChange))).toEqual(['detail-type']);
    expect(badFields(() => parseCloudWatchAlarmEvent(withField(alarm, 'source', 'aws.ec2')))).toEqual([
      'source',
    ]);
  });

  it('refuses a state timestamp that is not a date-time', () => {
    expect(
      badFields(() => parseCloudWatchAlarmEvent(withField(alarm, 'detail.state.timestamp', 'soon'))),
    ).toEqual(['detail.state.timestamp']);
  });

  it('refuses an event without alarm name or region', () => {
    let event = withField(alarm, 'detail.alarmName', REMOVE);
    event = withField(event, 'region', 'us east');
    expect(badFields(() => parseCloudWatchAlarmEvent(event))).toEqual(['region', 'detail.alarmName']);
    for (const region of ['us-east', 'east-1', 'US-EAST-1', 'eusc-de-east-1 ']) {
      expect(badFields(() => parseCloudWatchAlarmEvent(withField(alarm, 'region', region)))).toEqual([
        'region',
      ]);
    }
  });
});
