import type { Context as LambdaContext } from 'aws-lambda';
import type { LambdaEvent } from 'hono/aws-lambda';

type Handler = (event: LambdaEvent, context: LambdaContext) => Promise<unknown>;

/**
 * A handler built on the first request: the http and api functions are the API's own
 * integrations, so they learn the API's URL (for links in pages) from the request rather than
 * from their environment (a reference would be circular) — unless PUBLIC_URL is configured.
 */
export function builtOnFirstRequest(
  publicUrl: string | undefined,
  build: (publicUrl: string) => Handler,
): Handler {
  let built: Handler | undefined;
  return async (event, context) => {
    const domain = (event.requestContext as { domainName?: string } | undefined)?.domainName;
    built ??= build(publicUrl ?? `https://${domain ?? 'localhost'}`);
    return built(event, context);
  };
}
