import { gzipSync } from 'node:zlib';
import type { KlaxonConfig } from '#core/config';
import { openApiDocument } from '#http/openapi';

/**
 * What esbuild replaces in a function's code when it is bundled (`define`): the config `cdk synth`
 * validated, and for the http function the OpenAPI document, generated here from the zod schemas
 * and gzipped (the document is 47 KB of JSON; generating it at run time would bundle zod's JSON
 * Schema generator and every command schema into the ingest path). Both are string literals in the
 * code, hence the double stringify; a change to either changes the asset hash. One definition for
 * the stack (constructs/klaxon-function.ts) and the bench (bench/bundles.ts).
 */
export function bundleDefine(
  config: KlaxonConfig,
  options: { readonly openApi?: boolean } = {},
): Record<string, string> {
  return {
    'process.env.KLAXON_CONFIG_JSON': JSON.stringify(JSON.stringify(config)),
    ...(options.openApi
      ? {
          'process.env.KLAXON_OPENAPI_GZ': JSON.stringify(
            gzipSync(JSON.stringify(openApiDocument())).toString('base64'),
          ),
        }
      : {}),
  };
}
