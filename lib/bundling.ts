import { gzipSync } from 'node:zlib';
import type { KlaxonConfig } from '#core/config';
import { openApiDocument } from '#http/openapi';

/**
 * What esbuild replaces in a function's code when it is bundled (`define`): the config `cdk synth`
 * validated, and for the http function the OpenAPI document, generated here from the zod schemas
 * and gzipped (the document is 47 KB of JSON, 6 KB gzipped; generating it at run time bundled
 * openapi.ts and every command schema into the ingest path, 12 KiB). Both are string literals in
 * the code, hence the double stringify; a change to either changes the asset hash. One definition
 * for the stack (constructs/klaxon-function.ts) and the bench (bench/bundles.ts).
 */
export function bundleDefine(
  config: KlaxonConfig,
  options: { readonly openApi?: boolean } = {},
): Record<string, string> {
  return {
    'process.env.KLAXON_CONFIG_JSON': JSON.stringify(JSON.stringify(config)),
    ...(options.openApi
      ? {
          'process.env.KLAXON_OPENAPI_GZ': JSON.stringify(gzipped(JSON.stringify(openApiDocument()))),
        }
      : {}),
  };
}

/**
 * Base64 gzip of `text`, the same wherever synth runs as far as gzip allows: the header's OS byte
 * (which differs between platforms) is set to "unknown" (RFC 1952), and there is no mtime. A Node
 * built against another zlib could still compress differently: that only redeploys the function.
 */
function gzipped(text: string): string {
  const bytes = gzipSync(text, { level: 9 });
  bytes[9] = 0xff;
  return bytes.toString('base64');
}
