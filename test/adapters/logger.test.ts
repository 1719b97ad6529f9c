import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogger } from '#adapters/aws/logger';

const lines: string[] = [];
const logger = (env: Record<string, string | undefined>) => new JsonLogger(env, (line) => lines.push(line));
const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

afterEach(() => {
  lines.length = 0;
  delete process.env._X_AMZN_TRACE_ID;
});

describe("the handlers' JSON logger (Powertools Logger's shape)", () => {
  it('writes one JSON line per entry: level, message, timestamp, service, trace id, appended keys, data', () => {
    process.env._X_AMZN_TRACE_ID =
      'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1';
    const log = logger({ POWERTOOLS_SERVICE_NAME: 'klaxon-process-alert' });
    log.appendKeys({ eventId: 'e-1' });
    log.info('alert processed', { outcome: 'opened' });
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const [entry] = entries();
    expect(entry).toEqual({
      level: 'INFO',
      message: 'alert processed',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'klaxon-process-alert',
      xray_trace_id: '1-67891233-abcdef012345678912345678',
      eventId: 'e-1',
      outcome: 'opened',
    });
  });

  it('drops entries below POWERTOOLS_LOG_LEVEL (then LOG_LEVEL, then INFO)', () => {
    const warn = logger({ POWERTOOLS_LOG_LEVEL: 'warn' });
    warn.debug('d');
    warn.info('i');
    warn.warn('w');
    warn.error('e');
    expect(entries().map((e) => e.level)).toEqual(['WARN', 'ERROR']);
    lines.length = 0;
    const byDefault = logger({});
    byDefault.debug('d');
    byDefault.info('i');
    expect(entries().map((e) => [e.level, e.service])).toEqual([['INFO', 'service_undefined']]);
  });

  it('writes an Error with its name, message and stack (JSON.stringify alone drops them)', () => {
    logger({}).error('failed', { error: new TypeError('boom') });
    expect(entries()[0]?.error).toEqual({
      name: 'TypeError',
      message: 'boom',
      stack: expect.stringContaining('boom'),
    });
  });
});
