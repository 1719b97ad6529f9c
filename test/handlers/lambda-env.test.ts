import { describe, expect, it } from 'vitest';
import { parseLambdaEnv } from '#app/env';
import { ConfigError } from '#core/errors';

const ENV = {
  TABLE_NAME: 'klaxon',
  EVENT_BUS_NAME: 'klaxon-bus',
  PAGES_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:pages',
  SCHEDULE_GROUP_NAME: 'klaxon-timers',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/scheduler',
  SCHEDULER_DLQ_ARN: 'arn:aws:sqs:eu-west-1:123456789012:timers-dlq',
  ESCALATE_FUNCTION_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:escalate',
  ACK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ack',
};

function errorsOf(env: NodeJS.ProcessEnv) {
  try {
    parseLambdaEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).errors;
  }
  throw new Error('parseLambdaEnv accepted the environment');
}

describe('parseLambdaEnv', () => {
  it('reads the variables the stack sets, the optional ones only when given', () => {
    expect(parseLambdaEnv({ ...ENV, OTHER: 'ignored' })).toEqual({ ...ENV, EXPORT_PREFIX: '' });
    expect(
      parseLambdaEnv({
        ...ENV,
        PUBLIC_URL: 'https://abc.execute-api.eu-west-1.amazonaws.com/',
        EXPORT_BUCKET: 'exports',
        EXPORT_PREFIX: 'klaxon/',
        PAGES_TOPIC_DISPLAY_NAME: 'Klaxon',
      }),
    ).toEqual({
      ...ENV,
      PUBLIC_URL: 'https://abc.execute-api.eu-west-1.amazonaws.com/',
      EXPORT_BUCKET: 'exports',
      PAGES_TOPIC_DISPLAY_NAME: 'Klaxon',
      EXPORT_PREFIX: 'klaxon/',
    });
  });

  it('names every missing or malformed variable at once', () => {
    const { TABLE_NAME: _, ...missing } = ENV;
    expect(
      errorsOf({ ...missing, EVENT_BUS_NAME: '', PAGES_TOPIC_ARN: 'pages', PUBLIC_URL: 'ftp://x' }),
    ).toEqual([
      { field: 'env.TABLE_NAME', message: 'required' },
      { field: 'env.EVENT_BUS_NAME', message: 'must not be empty' },
      { field: 'env.PAGES_TOPIC_ARN', message: 'must be an ARN (arn:...)' },
      { field: 'env.PUBLIC_URL', message: 'must be an http(s) URL' },
    ]);
    expect(errorsOf({ ...ENV, PUBLIC_URL: 'https://exa mple.com' })).toEqual([
      { field: 'env.PUBLIC_URL', message: 'must be a valid URL' },
    ]);
  });

  it('says which variable in the error message a cold start logs', () => {
    expect(() => parseLambdaEnv({ ...ENV, ACK_SECRET_ARN: undefined })).toThrow(
      /env\.ACK_SECRET_ARN: required/,
    );
  });
});
