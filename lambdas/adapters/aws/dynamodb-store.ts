import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AlertOutcome, IncidentFilter, IncidentPage, IncidentStore, Integration } from '#app/ports';
import type { Alert } from '#core/alert';
import { RetryableError, ValidationError } from '#core/errors';
import { eventHash, incidentIdFor } from '#core/ids';
import { type Incident, TIMELINE_TYPES, type TimelineEntry } from '#core/incident';
import { defaultDocumentClient } from './dynamodb-client.ts';

/**
 * Theory of operation — the single-table incident store.
 *
 * Items (pk / sk):
 *   KEY#<service>#<dedupKey> / KEY          { occurrence }  how many incidents of this key were resolved
 *   INC#<id>                 / INC          the incident; gsi1 = by service, gsi2 = all, by detectedAt
 *   INC#<id>                 / TL#<at>#…    timeline entries, read with the incident in one Query
 *   IKEY#<sha256(key)>       / IKEY         an integration key, stored hashed
 *
 * The id of the n-th incident of a key is a hash of (service, dedupKey, n), so every writer that
 * reads the same `occurrence` agrees on the incident without a lookup item to create first.
 *
 * Trigger = one consistent read of KEY, then ONE conditional upsert of INC#id:
 *   ADD alertCount 1, seen {hash(eventKey)}, SET every base field if_not_exists,
 *   IF (the item is new OR not resolved) AND the event is not in `seen`.
 * The writer whose ADD returns alertCount = 1 created the incident: exactly one writer "opens"
 * it however many race (64 concurrent duplicates → one incident, count 64). A replayed event fails
 * the `seen` condition and changes nothing. If the incident was resolved meanwhile, the trigger
 * advances KEY.occurrence (conditionally, so a crashed resolve is repaired by whoever comes
 * next) and retries against the next incident id.
 *
 * Resolve = conditional update of the incident to resolved, then advance KEY.occurrence. A crash
 * between the two is repaired by the retry (the resolve sees its own event on the incident) or by
 * the next trigger. No transactions; every write is keyed on a primary key, never a GSI.
 *
 * Known limit: `seen` holds a 13-character hash per counted event, so an incident that absorbs
 * tens of thousands of distinct events grows towards DynamoDB's 400 KB item limit.
 */

const MAX_ATTEMPTS = 6;

type Item = Record<string, unknown>;

const keyPk = (service: string, dedupKey: string) => `KEY#${service}#${dedupKey}`;
const incPk = (id: string) => `INC#${id}`;

export interface DynamoDbIncidentStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBDocumentClient;
}

export class DynamoDbIncidentStore implements IncidentStore {
  readonly #table: string;
  readonly #db: DynamoDBDocumentClient;

  constructor(options: DynamoDbIncidentStoreOptions) {
    this.#table = options.tableName;
    this.#db = options.client ?? defaultDocumentClient;
  }

  async trigger(alert: Alert, now: Date): Promise<AlertOutcome> {
    const seen = eventHash(alert.eventKey);
    const nowIso = now.toISOString();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const occurrence = await this.#occurrence(alert.service, alert.dedupKey);
      const id = incidentIdFor(alert.service, alert.dedupKey, occurrence);
      try {
        const result = await this.#db.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: { pk: incPk(id), sk: 'INC' },
            UpdateExpression: `${[
              'SET #id = if_not_exists(#id, :id), service = if_not_exists(service, :service)',
              'dedupKey = if_not_exists(dedupKey, :dedupKey), occurrence = if_not_exists(occurrence, :occurrence)',
              '#status = if_not_exists(#status, :triggered), title = if_not_exists(title, :title)',
              '#source = if_not_exists(#source, :source), severity = if_not_exists(severity, :severity)',
              'origin = if_not_exists(origin, :origin), startedAt = if_not_exists(startedAt, :startedAt)',
              'detectedAt = if_not_exists(detectedAt, :now), version = if_not_exists(version, :one)',
              'openedBy = if_not_exists(openedBy, :seen)',
              'gsi1pk = if_not_exists(gsi1pk, :gsi1pk), gsi1sk = if_not_exists(gsi1sk, :gsiSk)',
              'gsi2pk = if_not_exists(gsi2pk, :gsi2pk), gsi2sk = if_not_exists(gsi2sk, :gsiSk)',
              'lastAlertAt = :now',
            ].join(', ')} ADD alertCount :one, seen :seenSet`,
            ConditionExpression:
              '(attribute_not_exists(pk) OR #status <> :resolved) AND NOT contains(seen, :seen)',
            ExpressionAttributeNames: { '#id': 'id', '#status': 'status', '#source': 'source' },
            ExpressionAttributeValues: {
              ':id': id,
              ':service': alert.service,
              ':dedupKey': alert.dedupKey,
              ':occurrence': occurrence,
              ':triggered': 'triggered',
              ':resolved': 'resolved',
              ':title': alert.summary,
              ':source': alert.source,
              ':severity': alert.severity,
              ':origin': alert.origin,
              ':startedAt': alert.occurredAt ?? alert.receivedAt,
              ':now': nowIso,
              ':one': 1,
              ':seen': seen,
              ':seenSet': new Set([seen]),
              ':gsi1pk': `SVC#${alert.service}`,
              ':gsi2pk': 'INC',
              ':gsiSk': `${nowIso}#${id}`,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const incident = toIncident(result.Attributes as Item);
        return { kind: incident.alertCount === 1 ? 'opened' : 'appended', incident };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const item = await this.#getItem(incPk(id), 'INC');
        if (item === undefined) continue; // cannot fail on a missing item; retry from the top
        if (hasSeen(item, seen)) {
          return {
            kind: 'replayed',
            incident: toIncident(item),
            caused: item.openedBy === seen ? 'opened' : 'appended',
          };
        }
        // Resolved meanwhile: make sure the key points past it, then try the next incident.
        await this.#advance(alert.service, alert.dedupKey, occurrence);
      }
    }
    throw new RetryableError(`trigger for ${alert.service}/${alert.dedupKey} kept racing; retry`);
  }

  async acknowledge(alert: Alert, now: Date, who: string): Promise<AlertOutcome> {
    const occurrence = await this.#occurrence(alert.service, alert.dedupKey);
    const id = incidentIdFor(alert.service, alert.dedupKey, occurrence);
    const cause = eventHash(alert.eventKey);
    try {
      const result = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: incPk(id), sk: 'INC' },
          UpdateExpression:
            'SET #status = :acknowledged, acknowledgedAt = :now, acknowledgedBy = :who, ackCause = :cause ADD version :one',
          ConditionExpression: 'attribute_exists(pk) AND #status = :triggered',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':acknowledged': 'acknowledged',
            ':triggered': 'triggered',
            ':now': now.toISOString(),
            ':who': who,
            ':cause': cause,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { kind: 'acknowledged', incident: toIncident(result.Attributes as Item) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const caused = await this.#causedBy(alert, occurrence, 'ackCause', cause);
      if (caused !== undefined) return { kind: 'replayed', incident: caused, caused: 'acknowledged' };
      const item = await this.#getItem(incPk(id), 'INC');
      if (item === undefined) return { kind: 'ignored', reason: 'no open incident for this dedup key' };
      const incident = toIncident(item);
      return { kind: 'ignored', reason: `incident is already ${incident.status}`, incident };
    }
  }

  async resolve(alert: Alert, now: Date, who: string): Promise<AlertOutcome> {
    const occurrence = await this.#occurrence(alert.service, alert.dedupKey);
    const id = incidentIdFor(alert.service, alert.dedupKey, occurrence);
    const cause = eventHash(alert.eventKey);
    let outcome: Extract<AlertOutcome, { kind: 'resolved' | 'replayed' }>;
    try {
      const result = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: incPk(id), sk: 'INC' },
          UpdateExpression:
            'SET #status = :resolved, resolvedAt = :now, resolvedBy = :who, resolveCause = :cause ADD version :one',
          ConditionExpression: 'attribute_exists(pk) AND #status <> :resolved',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':resolved': 'resolved',
            ':now': now.toISOString(),
            ':who': who,
            ':cause': cause,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      outcome = { kind: 'resolved', incident: toIncident(result.Attributes as Item) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const caused = await this.#causedBy(alert, occurrence, 'resolveCause', cause);
      if (caused === undefined) {
        const item = await this.#getItem(incPk(id), 'INC');
        if (item === undefined) return { kind: 'ignored', reason: 'no open incident for this dedup key' };
        return { kind: 'ignored', reason: 'incident is already resolved', incident: toIncident(item) };
      }
      outcome = { kind: 'replayed', incident: caused, caused: 'resolved' };
    }
    await this.#advance(alert.service, alert.dedupKey, outcome.incident.occurrence);
    return outcome;
  }

  async findOpen(service: string, dedupKey: string): Promise<Incident | undefined> {
    const occurrence = await this.#occurrence(service, dedupKey);
    const incident = await this.get(incidentIdFor(service, dedupKey, occurrence));
    return incident?.status === 'resolved' ? undefined : incident;
  }

  async get(id: string): Promise<Incident | undefined> {
    const item = await this.#getItem(incPk(id), 'INC');
    return item === undefined ? undefined : toIncident(item);
  }

  async list(filter: IncidentFilter): Promise<IncidentPage> {
    const limit = filter.limit ?? 50;
    const input: QueryCommandInput = {
      TableName: this.#table,
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: decodeCursor(filter.cursor),
      ...(filter.service
        ? {
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :pk',
            ExpressionAttributeValues: { ':pk': `SVC#${filter.service}` },
          }
        : {
            IndexName: 'gsi2',
            KeyConditionExpression: 'gsi2pk = :pk',
            ExpressionAttributeValues: { ':pk': 'INC' },
          }),
    };
    if (filter.status) {
      input.FilterExpression = '#status = :status';
      input.ExpressionAttributeNames = { '#status': 'status' };
      input.ExpressionAttributeValues = { ...input.ExpressionAttributeValues, ':status': filter.status };
    }
    // A filter can leave a page short; keep reading until the page is full or the index ends.
    const incidents: Incident[] = [];
    let lastKey: Item | undefined;
    do {
      const page = await this.#db.send(new QueryCommand({ ...input, Limit: limit - incidents.length }));
      for (const item of page.Items ?? []) incidents.push(toIncident(item));
      lastKey = page.LastEvaluatedKey;
      input.ExclusiveStartKey = lastKey;
    } while (lastKey !== undefined && incidents.length < limit);
    return lastKey === undefined ? { incidents } : { incidents, nextCursor: encodeCursor(lastKey) };
  }

  async putTimelineEntry(entry: TimelineEntry): Promise<void> {
    await this.#db.send(
      new PutCommand({
        TableName: this.#table,
        Item: { pk: incPk(entry.incidentId), sk: timelineSk(entry), ...entry },
      }),
    );
  }

  async timeline(incidentId: string): Promise<TimelineEntry[]> {
    const entries: TimelineEntry[] = [];
    let start: Item | undefined;
    do {
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tl)',
          ExpressionAttributeValues: { ':pk': incPk(incidentId), ':tl': 'TL#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) entries.push(toTimelineEntry(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return entries;
  }

  async putIntegration(integration: Integration): Promise<void> {
    await this.#db.send(
      new PutCommand({
        TableName: this.#table,
        Item: { pk: `IKEY#${integration.keyHash}`, sk: 'IKEY', ...integration },
      }),
    );
  }

  async findIntegration(keyHash: string): Promise<Integration | undefined> {
    const item = await this.#getItem(`IKEY#${keyHash}`, 'IKEY');
    if (item === undefined) return undefined;
    return {
      keyHash: String(item.keyHash),
      service: String(item.service),
      name: String(item.name),
      createdAt: String(item.createdAt),
    };
  }

  /**
   * The incident this event already acknowledged or resolved, if any: the current one, or the
   * previous one when the key has moved on since (a retry after a crash that came late).
   */
  async #causedBy(
    alert: Alert,
    occurrence: number,
    attribute: 'ackCause' | 'resolveCause',
    cause: string,
  ): Promise<Incident | undefined> {
    for (const n of occurrence > 0 ? [occurrence, occurrence - 1] : [occurrence]) {
      const item = await this.#getItem(incPk(incidentIdFor(alert.service, alert.dedupKey, n)), 'INC');
      if (item?.[attribute] === cause) return toIncident(item);
    }
    return undefined;
  }

  async #occurrence(service: string, dedupKey: string): Promise<number> {
    const item = await this.#getItem(keyPk(service, dedupKey), 'KEY');
    return typeof item?.occurrence === 'number' ? item.occurrence : 0;
  }

  /** Moves the key past `occurrence`; a no-op when someone already did. */
  async #advance(service: string, dedupKey: string, occurrence: number): Promise<void> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: keyPk(service, dedupKey), sk: 'KEY' },
          UpdateExpression: 'SET occurrence = :next',
          ConditionExpression:
            occurrence === 0
              ? 'attribute_not_exists(occurrence) OR occurrence = :current'
              : 'occurrence = :current',
          ExpressionAttributeValues: { ':next': occurrence + 1, ':current': occurrence },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async #getItem(pk: string, sk: string): Promise<Item | undefined> {
    const result = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: { pk, sk }, ConsistentRead: true }),
    );
    return result.Item;
  }
}

/** Sorted by time, then by type so that entries of one instant read in lifecycle order. */
function timelineSk(entry: TimelineEntry): string {
  return `TL#${entry.at}#${TIMELINE_TYPES.indexOf(entry.type)}#${entry.id}`;
}

function hasSeen(item: Item, hash: string): boolean {
  return item.seen instanceof Set && item.seen.has(hash);
}

function toIncident(item: Item): Incident {
  const optional = (name: string) => (typeof item[name] === 'string' ? { [name]: item[name] } : {});
  return {
    id: String(item.id),
    service: String(item.service),
    dedupKey: String(item.dedupKey),
    occurrence: Number(item.occurrence),
    status: item.status as Incident['status'],
    title: String(item.title),
    source: String(item.source),
    severity: item.severity as Incident['severity'],
    origin: item.origin as Incident['origin'],
    startedAt: String(item.startedAt),
    detectedAt: String(item.detectedAt),
    ...optional('acknowledgedAt'),
    ...optional('acknowledgedBy'),
    ...optional('resolvedAt'),
    ...optional('resolvedBy'),
    alertCount: Number(item.alertCount),
    lastAlertAt: String(item.lastAlertAt),
    version: Number(item.version),
  };
}

function toTimelineEntry(item: Item): TimelineEntry {
  return {
    id: String(item.id),
    incidentId: String(item.incidentId),
    at: String(item.at),
    type: item.type as TimelineEntry['type'],
    who: String(item.who),
    text: String(item.text),
  };
}

const CURSOR_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk']);

function isKey(value: unknown): value is Item {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return entries.length > 0 && entries.every(([k, v]) => CURSOR_ATTRIBUTES.has(k) && typeof v === 'string');
}

function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): Item | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isKey(value)) return value;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('invalid cursor', [
    { field: 'cursor', message: 'not a cursor returned by this API' },
  ]);
}
