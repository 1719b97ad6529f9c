import type { Context as LambdaContext } from 'aws-lambda';
import type { LambdaEvent } from 'hono/aws-lambda';
import { describe, expect, it } from 'vitest';
import { builtOnFirstRequest } from '#handlers/on-first-request';

const event = (domainName: string) => ({ requestContext: { domainName } }) as unknown as LambdaEvent;
const context = {} as LambdaContext;

describe('builtOnFirstRequest', () => {
  it('builds once, with the URL of the domain the first request came to', async () => {
    const built: string[] = [];
    const handler = builtOnFirstRequest(undefined, (url) => {
      built.push(url);
      return async () => url;
    });
    expect(await handler(event('abc.execute-api.eu-west-1.amazonaws.com'), context)).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com',
    );
    expect(await handler(event('other.example.com'), context)).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com',
    );
    expect(built).toHaveLength(1);
  });

  it('prefers a configured PUBLIC_URL (a custom domain)', async () => {
    const handler = builtOnFirstRequest('https://klaxon.example.com', (url) => async () => url);
    expect(await handler(event('abc.execute-api.eu-west-1.amazonaws.com'), context)).toBe(
      'https://klaxon.example.com',
    );
  });
});
