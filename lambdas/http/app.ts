import { Hono } from 'hono/tiny';
import { type ApiAppDeps, createApiApp } from './api-app.ts';
import { noRoute } from './errors.ts';
import { createIngestApp, type IngestAppDeps } from './ingest-app.ts';
import { openApiDocument } from './openapi.ts';

export { MAX_BODY_BYTES } from './ingest-app.ts';

export interface HttpAppDeps extends ApiAppDeps, Omit<IngestAppDeps, 'openApi'> {
  readonly log?: IngestAppDeps['log'];
}

let openApi: string | undefined;

/**
 * The whole HTTP surface in one app: ingest and links (ingest-app.ts) and the management API
 * (api-app.ts). The local runtime serves this; in AWS the two halves are two functions, so that
 * the ingest path stays small (see lambdas/handlers/http.ts and api.ts).
 */
export function createHttpApp(deps: HttpAppDeps): Hono {
  const app = new Hono();
  // Generated from the schemas here (in AWS it is built at synth: lib/bundling.ts).
  app.route(
    '/',
    createIngestApp({ ...deps, openApi: () => (openApi ??= JSON.stringify(openApiDocument())) }),
  );
  app.route('/', createApiApp(deps));
  app.notFound(noRoute);
  return app;
}
