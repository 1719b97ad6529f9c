import type { Alert } from '#core/alert';
import { AuthenticationError } from '#core/errors';
import { hashIntegrationKey, newIntegrationKey } from '#core/ids';
import type { AlertBus, IncidentStore, Integration } from './ports.ts';

/**
 * Resolves integration keys to their service. Keys are looked up by their SHA-256 only; a
 * found integration is cached for a minute so a burst of alerts costs one read per key.
 */
export class IntegrationDirectory {
  readonly #store: Pick<IncidentStore, 'findIntegration'>;
  readonly #cache = new Map<string, { integration: Integration; until: number }>();
  readonly #ttlMs: number;

  constructor(store: Pick<IncidentStore, 'findIntegration'>, ttlMs = 60_000) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  /** The integration a key belongs to; AuthenticationError when there is none. */
  async authenticate(key: string | undefined): Promise<Integration> {
    if (key === undefined || key.length === 0) throw new AuthenticationError('missing integration key');
    const hash = hashIntegrationKey(key);
    const cached = this.#cache.get(hash);
    if (cached !== undefined && cached.until > Date.now()) return cached.integration;
    const integration = await this.#store.findIntegration(hash);
    if (integration === undefined) throw new AuthenticationError('unknown integration key');
    this.#cache.set(hash, { integration, until: Date.now() + this.#ttlMs });
    return integration;
  }
}

/** Puts normalized alerts on the Klaxon bus; the process-alert route takes them from there. */
export async function publishAlerts(alerts: readonly Alert[], bus: AlertBus): Promise<void> {
  if (alerts.length > 0) await bus.putAlerts(alerts);
}

/**
 * Creates an integration key for a service: the plain key is returned to the caller once and
 * only its SHA-256 is stored, as PagerDuty shows an integration key.
 */
export async function createIntegration(
  store: Pick<IncidentStore, 'putIntegration'>,
  input: { service: string; name: string; now: Date; key?: string },
): Promise<{ integrationKey: string; service: string; name: string; createdAt: string }> {
  const integrationKey = input.key ?? newIntegrationKey();
  const createdAt = input.now.toISOString();
  await store.putIntegration({
    keyHash: hashIntegrationKey(integrationKey),
    service: input.service,
    name: input.name,
    createdAt,
  });
  return { integrationKey, service: input.service, name: input.name, createdAt };
}
