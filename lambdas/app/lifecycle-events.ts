import type { KlaxonConfig } from '#core/config';
import type { Incident } from '#core/incident';
import { type LifecycleEventExtras, type LifecycleEventType, lifecycleEvent } from '#core/lifecycle-events';
import type { AckLinks } from './links.ts';
import type { EventPublisher } from './ports.ts';

/**
 * Puts one lifecycle event on the Klaxon bus. Its id is derived from (type, incident, cause), so
 * the retry of a use case that published it already publishes the same id again.
 */
export async function emit<T extends LifecycleEventType>(
  deps: { readonly events: EventPublisher; readonly config: KlaxonConfig; readonly links: AckLinks },
  type: T,
  incident: Incident,
  extras: LifecycleEventExtras[T],
  context: { cause: string; at: string; actor?: string },
): Promise<void> {
  const { detailType, detail } = lifecycleEvent(type, incident, extras, {
    id: context.cause,
    occurredAt: context.at,
    ...(context.actor !== undefined ? { actor: context.actor } : {}),
    serviceName: deps.config.services.find((s) => s.id === incident.service)?.name ?? incident.service,
    timeZone: deps.config.timeZone,
    url: deps.links.incidentUrl(incident.id),
  });
  await deps.events.publish(detailType, detail);
}
