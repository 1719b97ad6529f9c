import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { type FieldError, KlaxonError } from '#core/errors';
import { dataDir } from '#local/settings';

/**
 * The CLI's HTTP client for the management API (`/api/*`). Two targets:
 *
 * - the local runtime (`npm start`): `--url` (default KLAXON_URL, else http://127.0.0.1:$PORT, else :3000) with
 *   `Authorization: Bearer <token>` — `--token`, else KLAXON_API_TOKEN, else the token the runtime
 *   wrote to `$KLAXON_DATA_DIR/secrets.json`;
 * - a deployed stack: `--endpoint` (the HTTP API's URL, stage path included if any) with
 *   `--region` (else AWS_REGION / AWS_DEFAULT_REGION, else the region in an execute-api host name).
 *   Requests are signed with SigV4 for `execute-api` with the default credential provider chain:
 *   API Gateway's IAM authorizer guards `/api/{proxy+}`.
 *
 * Responses of 300 and above become an `ApiError` carrying the API's message and field errors.
 */

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends KlaxonError {}

/**
 * Refuses the flags among `flags` that were given although they do not apply to the target chosen
 * (`why`: "with --table", "without --queue-url"), naming the first: silently ignored, `--region`
 * beside `--url` or `--url` beside `--endpoint` would send the request somewhere not asked for.
 */
export function notApplying<V extends object>(
  values: V,
  flags: readonly (keyof V & string)[],
  why: string,
): void {
  const given = flags.find((flag) => values[flag] !== undefined);
  if (given !== undefined) throw new UsageError(`--${given} does not apply ${why}`);
}

/** The API refused the request (its message and field errors) or failed: exit code 1. */
export class ApiError extends KlaxonError {
  constructor(
    readonly status: number,
    readonly apiMessage: string,
    readonly errors: readonly FieldError[],
  ) {
    const fields = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
    super(`${status} ${apiMessage}${fields ? ` (${fields})` : ''}`);
  }
}

export interface Target {
  readonly url?: string | undefined;
  readonly token?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
}

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** For tests: fixed credentials and signing time instead of the provider chain and the clock. */
export interface SigningOverrides {
  readonly credentials?: Credentials;
  readonly signingDate?: Date;
}

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Starts with `/api/`; ids in it already encoded (`apiPath`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  /** Default application/json. */
  readonly accept?: string;
}

export interface ApiClient {
  /** Where requests go: the local URL or the endpoint. */
  readonly base: string;
  json<T>(request: ApiRequest): Promise<T>;
  text(request: ApiRequest): Promise<string>;
}

/** `/api/incidents/<id>/…` with every segment URI-encoded. */
export function apiPath(...segments: string[]): string {
  return `/api/${segments.map(encodeURIComponent).join('/')}`;
}

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** The local Klaxon the CLI talks to: KLAXON_URL, else the PORT `npm start` reads, else port 3000. */
export function localUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KLAXON_URL) return env.KLAXON_URL;
  return env.PORT ? `http://127.0.0.1:${env.PORT}` : DEFAULT_URL;
}

export function apiClient(target: Target, overrides: SigningOverrides = {}): ApiClient {
  const send = target.endpoint ? signedSender(target, overrides) : bearerSender(target);
  const base = target.endpoint ?? target.url ?? localUrl();
  async function call(request: ApiRequest): Promise<Response> {
    const res = await send(request);
    if (res.status >= 300) throw await apiError(res);
    return res;
  }
  return {
    base,
    async json<T>(request: ApiRequest): Promise<T> {
      return (await (await call(request)).json()) as T;
    },
    async text(request: ApiRequest): Promise<string> {
      return (await call(request)).text();
    },
  };
}

type Sender = (request: ApiRequest) => Promise<Response>;

function bearerSender(target: Target): Sender {
  const url = target.url ?? localUrl();
  let token: Promise<string> | undefined;
  return async (request) => {
    token ??= target.token ? Promise.resolve(target.token) : localToken();
    const headers: Record<string, string> = {
      accept: request.accept ?? 'application/json',
      authorization: `Bearer ${await token}`,
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const to = new URL(`${request.path}${queryString(request.query)}`, url);
    return reach(`${url}: is Klaxon running (npm start)? (another one: --url or KLAXON_URL)`, () =>
      fetch(to, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      }),
    );
  };
}

/** The local runtime's token: KLAXON_API_TOKEN, else `<data dir>/secrets.json`. */
export async function localToken(): Promise<string> {
  if (process.env.KLAXON_API_TOKEN) return process.env.KLAXON_API_TOKEN;
  const path = join(dataDir(), 'secrets.json');
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as { apiToken: string }).apiToken;
  } catch {
    throw new UsageError(
      `no API token: pass --token or set KLAXON_API_TOKEN, or run this where the local runtime keeps ${path} (npm start; KLAXON_DATA_DIR)`,
    );
  }
}

const EXECUTE_API_HOST = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/;

function signedSender(target: Target, overrides: SigningOverrides): Sender {
  const endpoint = parseEndpoint(target.endpoint ?? '');
  const region =
    target.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    EXECUTE_API_HOST.exec(endpoint.hostname)?.[1];
  if (!region) throw new UsageError('--region (or AWS_REGION) is required with --endpoint');
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: overrides.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
  return async (request) => {
    const url = new URL(request.path.replace(/^\//, ''), endpoint);
    const query = Object.fromEntries(
      Object.entries(request.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = { host: url.host, accept: request.accept ?? 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const signed = await signer
      .sign(
        {
          method: request.method,
          protocol: url.protocol,
          hostname: url.hostname,
          ...(url.port ? { port: Number(url.port) } : {}),
          path: url.pathname,
          query,
          headers,
          body,
        },
        overrides.signingDate ? { signingDate: overrides.signingDate } : {},
      )
      .catch((error: unknown) => {
        throw new KlaxonError(`cannot sign the request: no AWS credentials? (${errorText(error)})`);
      });
    // fetch sets Host itself from the URL, to the same value that was signed.
    const { host: _host, ...sent } = signed.headers;
    return reach(endpoint.href, () =>
      fetch(`${url.origin}${url.pathname}${queryString(query)}`, {
        method: request.method,
        headers: sent,
        ...(body === undefined ? {} : { body }),
      }),
    );
  };
}

function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(
      `--endpoint: expected the API's URL (https://….execute-api.….amazonaws.com/), got "${endpoint}"`,
    );
  }
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

/** RFC 3986 encoding, as SigV4 canonicalizes it, so the sent query is the signed one. */
const rfc3986 = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryString(query: Readonly<Record<string, string | undefined>> | undefined): string {
  const pairs = Object.entries(query ?? {})
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`);
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
}

async function reach(where: string, go: () => Promise<Response>): Promise<Response> {
  try {
    return await go();
  } catch (error) {
    throw new KlaxonError(`cannot reach ${where} (${errorText(error)})`);
  }
}

async function apiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: { message?: unknown; errors?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON (a proxy's error page): the status line says it.
  }
  const message = typeof body.message === 'string' ? body.message : res.statusText || 'request failed';
  const errors = Array.isArray(body.errors)
    ? body.errors.map((e: unknown) =>
        typeof e === 'object' && e !== null && 'field' in e
          ? { field: String(e.field), message: String((e as { message?: unknown }).message ?? '') }
          : { field: '', message: String(e) },
      )
    : [];
  return new ApiError(res.status, message, errors);
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
