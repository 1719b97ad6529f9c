import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  AlertOutcome,
  ControlStore,
  DigestRecord,
  HeldPages,
  IncidentFilter,
  IncidentPage,
  IncidentPatch,
  IncidentStore,
  Integration,
  MaintenanceWindow,
  MetricsStore,
  PreviousResolution,
  Transition,
  TriggerOptions,
} from '#app/ports';
import type { Alert } from '#core/alert';
import { mapSourceSeverity } from '#core/classification';
import { RetryableError, ValidationError } from '#core/errors';
import { eventHash, incidentIdFor } from '#core/ids';
import { type Incident, TIMELINE_TYPES, type TimelineEntry } from '#core/incident';
import { incidentDay, instant, type Rollup } from '#core/metrics';
import type { ScheduleOverride } from '#core/oncall';
import { defaultDocumentClient } from './dynamodb-client.ts';

/**
 * Theory of operation — the single-table incident store.
 *
 * Items (pk / sk):
 *   KEY#<service>#<dedupKey> / KEY          { occurrence }  how many incidents of this key were resolved
 *   INC#<id>                 / INC          the incident; gsi1 = by service, gsi2 = all, by detectedAt;
 *                                           its OPENED entry too (`opening`, see completeOpening)
 *   INC#<id>                 / TL#<at>#…    timeline entries, read with the incident in one Query
 *   INC#<id>                 / IDEM#<entry>  a keyed entry's claim (putTimelineEntryOnce): sorts
 *                                           before INC, outside the timeline's Query
 *   IKEY#<sha256(key)>       / IKEY         an integration key, stored hashed
 *   MW#<service>             / <to>#<id>    maintenance windows (query: sk > now = not ended)
 *   OVR#<schedule>           / <to>#<id>    schedule overrides (same)
 *   THR#<contact>#<class>    / THR          recent sends of one contact, for the throttle
 *   THR#<contact>#page       / HELD         the incidents whose pages the throttle held (`held`),
 *                                           when their digest is due (`due`): app/digest.ts
 *   ROLLUP#<day>             / <svc>#<sev>  a day's rollups (gsi2 ROLLUP by day, for periods)
 *   BUDGET#<service>         / <YYYY-MM>    error budget exhausted (claimedAt): notified once per
 *                                           month; a resolution after it requires a postmortem
 *   incidents also carry gsi3 DAY#<day>: the day they belong to (start day, then resolution day)
 *   TIMER#<name>             / TIMER        local runtime only: durable timers (gsi2 TIMERS by due time)
 *
 * The id of the n-th incident of a key is a hash of (service, dedupKey, n), so every writer that
 * reads the same `occurrence` agrees on the incident without a lookup item to create first.
 *
 * Trigger = one consistent read of KEY, then ONE conditional upsert of INC#id:
 *   ADD alertCount 1, seen {hash(eventKey)}, SET every base field if_not_exists,
 *   IF the item is new OR (not resolved AND the event is not its opener, in `seen` or `seenPrev`).
 * The writer whose ADD returns alertCount = 1 created the incident: exactly one writer "opens"
 * it however many race (64 concurrent duplicates → one incident, count 64). A replayed event fails
 * the condition and changes nothing. If the incident was resolved meanwhile, the trigger
 * advances KEY.occurrence (conditionally, so a crashed resolve is repaired by whoever comes
 * next) and retries against the next incident id.
 *
 * A warm process remembers each key's occurrence (and that its incident exists): a duplicate is
 * then the one conditional update, with only what an append changes. A stale occurrence names a
 * resolved incident, whose condition fails; the retry reads KEY again.
 *
 * The dedup window: `seen` holds one generation of up to 32 event hashes; the writer whose event
 * fills it moves it to `seenPrev` (dropping the older one). A redelivery is recognised while fewer
 * than 32–64 other events were counted into its incident since; the opener (`openedBy`) always
 * is. The item stays about 1.3 KB however long the storm (2 write units a duplicate; it used to
 * grow to the 400 KB limit).
 *
 * Resolve = conditional update of the incident to resolved, then advance KEY.occurrence. A crash
 * between the two is repaired by the retry (the resolve sees its own event on the incident) or by
 * the next trigger. No transactions; every write is keyed on a primary key, never a GSI.
 *
 * Late replays: a redelivery that arrives after its incident was resolved (the key has moved on)
 * is recognised on the earlier incidents of the key, newest first, back to the first one resolved
 * before the alert was received (it cannot have counted it) — one extra read for keys that had an
 * earlier incident, and at most 20 (a redelivery older than 20 incidents of its key is not
 * recognised).
 */

const MAX_ATTEMPTS = 6;
/** How many earlier incidents of a key a late redelivery is looked for in, at most. */
const MAX_LOOKBACK = 20;
/** A contact paged by many incidents at once is one hot item: more attempts, with jittered backoff. */
const THROTTLE_ATTEMPTS = 12;
/** DynamoDB's BatchWriteItem limit, and how often what it leaves unprocessed is sent again. */
const BATCH_WRITE_MAX = 25;
const BATCH_ATTEMPTS = 8;
const BATCH_CONCURRENCY = 4;
/** How many held incidents a contact's digest names; more are counted (`overflow`). ≈ 20 KB of ids. */
export const HELD_MAX = 1000;
/** Rollup samples are stored in chunks so that a day of any size fits DynamoDB's 400 KB items. */
const SAMPLES_CHUNK_BYTES = 300_000;

type Item = Record<string, unknown>;

/**
 * How many distinct events one generation of an incident's `seen` set holds (two are kept). Every
 * duplicate rewrites the item, so its size is the write cost of a storm: 32 keeps it near 1.3 KiB
 * (2 write units; 128 made it 4.1 KiB and 5). See ARCHITECTURE.md, "The dedup window".
 */
export const SEEN_WINDOW = 32;
/**
 * The largest previous incident a process keeps in memory for replay checks: two generations as
 * rotation races leave them (up to 15 over each), and items written with the earlier window of
 * 128 (up to about 272 hashes). Larger ones (from before the window) are read each time.
 */
const PREVIOUS_MAX_HASHES = 320;
/** How many keys' occurrences (and contacts' throttle histories) one process remembers. */
const KEY_CACHE_SIZE = 1_000;

/** A key as this process last read it: its occurrence, the resolved incident before it, and whether its own exists. */
interface KeyState {
  readonly occurrence: number;
  /**
   * The incident before `occurrence`, once read resolved: what a late replay is checked against
   * first (its dedup hashes no longer change). Not kept for items with a legacy, unbounded `seen`.
   */
  previous?: Item;
  /** When the incident before `occurrence` was resolved: no later incident of the key starts before. */
  previousResolvedAt?: string;
  /** The id of the key's incident at `occurrence`, once this process has written to it. */
  exists?: string;
  /**
   * When the latest CloudWatch resolve (an alarm's OK) that found nothing of the key open was put
   * on the bus (epoch ms): an ALARM put there before it was overtaken by it, and opens nothing.
   */
  readonly quietSince?: number;
}

/** A map of at most `size` entries; the least recently set goes first. */
class BoundedMap<V> {
  readonly #entries = new Map<string, V>();
  constructor(readonly size: number) {}
  get(key: string): V | undefined {
    return this.#entries.get(key);
  }
  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.size) this.#entries.delete(this.#entries.keys().next().value as string);
  }
  delete(key: string): void {
    this.#entries.delete(key);
  }
}

const keyPk = (service: string, dedupKey: string) => `KEY#${service}#${dedupKey}`;
const incPk = (id: string) => `INC#${id}`;

export interface DynamoDbIncidentStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBDocumentClient;
}

export class DynamoDbIncidentStore implements IncidentStore, ControlStore, MetricsStore {
  readonly #table: string;
  readonly #db: DynamoDBDocumentClient;
  /** What this process last learnt of each key it triggered (a warm Lambda's hot keys). */
  readonly #keys = new BoundedMap<KeyState>(KEY_CACHE_SIZE);
  /** The throttle histories this process last wrote, by contact and class. */
  readonly #throttles = new BoundedMap<{ version: number; history: number[] }>(KEY_CACHE_SIZE);

  constructor(options: DynamoDbIncidentStoreOptions) {
    this.#table = options.tableName;
    this.#db = options.client ?? defaultDocumentClient;
  }

  /** Where and through which client it stores: other stores of the same table share them. */
  get table(): { tableName: string; client: DynamoDBDocumentClient } {
    return { tableName: this.#table, client: this.#db };
  }

  async trigger(
    alert: Alert,
    now: Date,
    options: TriggerOptions | (() => TriggerOptions) = {},
  ): Promise<AlertOutcome> {
    const opening = typeof options === 'function' ? options : () => options;
    const seen = eventHash(alert.eventKey);
    const nowIso = now.toISOString();
    const receivedAt = Date.parse(alert.receivedAt);
    // Compared with monitoringSince in the conditions: both as toISOString writes them.
    const receivedIso = new Date(receivedAt).toISOString();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // The first attempt may trust what this process last learnt of the key, once it has counted
      // into the key's incident: a stale occurrence only names an incident that is resolved, whose
      // condition fails below (then: read again). Before opening one, the key is read: another
      // process may have recorded a resolve that overtook this trigger (`quietSince`).
      const cached = attempt === 0 ? this.#keys.get(keyPk(alert.service, alert.dedupKey)) : undefined;
      const key = cached?.exists !== undefined ? cached : await this.#readKey(alert, cached);
      const { occurrence } = key;
      const id = incidentIdFor(alert.service, alert.dedupKey, occurrence);
      // An alarm's OK, put on the bus after this ALARM, found nothing open (EventBridge retries
      // reorder events): the trigger may count into an incident opened since, but opens none —
      // the alarm was over before Klaxon could open it. CloudWatch alarm events only: their bus
      // time is CloudWatch's and a retry keeps it, while an HTTP sender's resend of an old
      // resolve is stamped anew and would silence the next real firing.
      const overtaken =
        alert.origin === 'cloudwatch' && key.quietSince !== undefined && receivedAt < key.quietSince;
      // A late redelivery of an event an earlier incident of this key already counted (it was
      // resolved since) is a replay, not the start of a new incident. An event received after the
      // previous incident was resolved is new, whatever its key (Alertmanager re-sending a
      // still-firing alert; PagerDuty: "once resolved, further events with the same dedup_key
      // create a new alert"): no earlier incident can have counted it, so no read is needed.
      if (occurrence > 0) {
        const known = key.previous;
        if (known !== undefined) key.previousResolvedAt = String(known.resolvedAt);
        const previous =
          known !== undefined && receivedAt > Date.parse(String(known.resolvedAt))
            ? undefined
            : await this.#earlierIncident(alert, occurrence, (i) => hasSeen(i, seen), key);
        if (previous !== undefined) return replayOf(previous, seen);
      }
      try {
        // Known to exist (this process counted into it): only what an append changes.
        const result = await this.#db.send(
          key.exists === id || overtaken
            ? appendCommand(this.#table, id, seen, nowIso, receivedIso)
            : upsertCommand(
                this.#table,
                id,
                alert,
                occurrence,
                seen,
                nowIso,
                receivedIso,
                opening(),
                startFloor(key),
              ),
        );
        const item = result.Attributes as Item;
        key.exists = id;
        if (rotates(item)) await this.#rotateSeen(id);
        // The problem began with the earliest alert, not the first to arrive (DESIGN.md).
        const earlier = Number(item.alertCount) > 1 ? earlierStart(alert, item, startFloor(key)) : undefined;
        if (earlier !== undefined && (await this.#startEarlier(id, earlier, opening().timeZone)))
          item.startedAt = earlier;
        const incident = toIncident(item);
        return { kind: incident.alertCount === 1 ? 'opened' : 'appended', incident };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const item = await this.#getItem(incPk(id), 'INC');
        if (item === undefined && overtaken) return overtakenBy(key.quietSince);
        if (item === undefined) continue; // cannot fail on a missing item; retry from the top
        if (countedBy(item, seen, receivedAt)) return replayOf(item, seen);
        // Not counted and still open: its hash left the dedup window between the failed write and
        // this read (count it again: the window's limit), or the incident changed meanwhile —
        // never move the key past an open incident.
        if (item.status !== 'resolved') continue;
        // Resolved meanwhile: make sure the key points past it, then try the next incident.
        await this.#advance(alert.service, alert.dedupKey, occurrence);
      }
    }
    throw new RetryableError(`trigger for ${alert.service}/${alert.dedupKey} kept racing; retry`);
  }

  /**
   * Starts the next generation of an incident's `seen`: the full one becomes `seenPrev` (the older
   * one is dropped). A no-op when another writer did it first.
   */
  async #rotateSeen(id: string): Promise<void> {
    await this.#updateIf(id, {
      expression: 'SET seenPrev = seen REMOVE seen',
      condition: 'size(seen) >= :window',
      values: { ':window': SEEN_WINDOW },
    });
  }

  /**
   * Moves an incident's `startedAt` back to an alert counted into it whose own timestamp is
   * earlier (alerts arrive out of order). A second write, only for such an alert; a no-op when an
   * even earlier one got there first. Timestamps are stored as toISOString writes them.
   * While open, the incident belongs to its start day (`timeZone`): the day moves in the same
   * write. Resolved meanwhile (between the count and this), it stays on its resolution day: only
   * then a third write moves the start alone.
   */
  async #startEarlier(id: string, at: string, timeZone: string | undefined): Promise<boolean> {
    if (timeZone === undefined)
      return this.#updateIf(id, {
        expression: 'SET startedAt = :at',
        condition: 'startedAt > :at',
        values: { ':at': at },
      });
    return (
      (await this.#updateIf(id, {
        expression: 'SET startedAt = :at, gsi3pk = :day',
        condition: 'startedAt > :at AND attribute_not_exists(resolvedAt)',
        values: { ':at': at, ':day': `DAY#${incidentDay({ startedAt: at }, timeZone)}` },
      })) ||
      (await this.#updateIf(id, {
        expression: 'SET startedAt = :at',
        condition: 'startedAt > :at AND attribute_exists(resolvedAt)',
        values: { ':at': at },
      }))
    );
  }

  async acknowledge(alert: Alert, now: Date, who: string): Promise<AlertOutcome> {
    return this.#transitionByKey(alert, 'acknowledged', now, who, {});
  }

  async resolve(
    alert: Alert,
    now: Date,
    who: string,
    options: { day?: string; monitoringUntil?: string } = {},
  ): Promise<AlertOutcome> {
    return this.#transitionByKey(
      alert,
      options.monitoringUntil ? 'monitoring' : 'resolved',
      now,
      who,
      options,
    );
  }

  async transition(
    id: string,
    to: Transition,
    now: Date,
    who: string,
    cause: string,
    options: { day?: string; monitoringUntil?: string; resolvedAt?: string; owner?: boolean } = {},
  ): Promise<AlertOutcome> {
    const rule = TRANSITIONS[to];
    const hash = eventHash(cause);
    const values: Record<string, unknown> = {
      ':to': to,
      ':now': now.toISOString(),
      ':who': who,
      ':cause': hash,
      ':one': 1,
      ...Object.fromEntries(rule.from.map((status, i) => [`:from${i}`, status])),
    };
    let update = rule.set;
    // A mitigation of an incident nobody owns: the mitigator acknowledges it, as of now (the
    // first acknowledgement's time stays: MTTA).
    if (to === 'mitigated' && options.owner)
      update = update.replace(
        'acknowledgedBy = if_not_exists(acknowledgedBy, :who)',
        'acknowledgedBy = :who, lastAcknowledgedAt = :now',
      );
    if (to === 'monitoring') values[':until'] = options.monitoringUntil ?? now.toISOString();
    if (to === 'resolved') {
      values[':resolvedAt'] = options.resolvedAt ?? now.toISOString();
      if (options.day) {
        update += ', gsi3pk = :day';
        values[':day'] = `DAY#${options.day}`;
      }
    }
    if (!update.includes(':now')) delete values[':now'];
    if (!update.includes(':who')) delete values[':who'];
    // Every resolve's cause is kept (a set) through reopens: a late redelivery of any of them must
    // not move the incident again.
    const resolving = rule.cause === 'resolveCause';
    if (resolving) values[':causes'] = new Set([hash]);
    const causeGuard = resolving
      ? ' AND (attribute_not_exists(resolveCauses) OR NOT contains(resolveCauses, :cause))'
      : '';
    // Backdated to when monitoring began only over a quiet period: no alert counted since.
    const quietGuard =
      to === 'resolved' && options.resolvedAt !== undefined ? ' AND alertCount = monitoringCount' : '';
    try {
      const result = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: incPk(id), sk: 'INC' },
          // Every transition ends a snooze (it is the acknowledged status's; a re-acknowledgement starts anew).
          UpdateExpression: `SET #status = :to, ${update}, ${rule.cause} = :cause ADD version :one${resolving ? ', resolveCauses :causes' : ''} REMOVE snooze`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${rule.from.map((_, i) => `:from${i}`).join(', ')})${causeGuard}${quietGuard}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const incident = toIncident(result.Attributes as Item);
      if (to === 'resolved') await this.#advance(incident.service, incident.dedupKey, incident.occurrence);
      return { kind: to, incident };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = await this.#getItem(incPk(id), 'INC');
      if (item === undefined) return { kind: 'ignored', reason: 'no such incident' };
      const incident = toIncident(item);
      if (item[rule.cause] === hash || (resolving && hasCause(item, hash))) {
        if (incident.status === 'resolved')
          await this.#advance(incident.service, incident.dedupKey, incident.occurrence);
        return { kind: 'replayed', incident, caused: to };
      }
      return { kind: 'ignored', reason: `incident is already ${incident.status}`, incident };
    }
  }

  async finishMonitoring(incident: Incident, day: string): Promise<Incident | undefined> {
    const finished = await this.#conditionalUpdate(incident, {
      set: {
        status: 'resolved',
        resolvedAt: incident.monitoringSince ?? incident.stepAt,
        resolvedBy: incident.monitoringBy ?? 'klaxon',
        monitored: true,
        closedAt: incident.monitoringUntil ?? incident.monitoringSince ?? incident.stepAt,
        gsi3pk: `DAY#${day}`,
      },
      condition: '#status = :monitoring AND alertCount = monitoringCount',
      values: { ':monitoring': 'monitoring' },
    });
    if (finished) await this.#advance(finished.service, finished.dedupKey, finished.occurrence);
    return finished;
  }

  async reopen(incident: Incident, now: Date, eventKey?: string): Promise<Incident | undefined> {
    // A reopen pages level 1 again: it is not an escalation (`escalations` counts later steps and
    // ack-timeout restarts).
    return this.#restart(
      incident,
      now,
      'monitoring',
      {
        escalations: incident.escalations,
        reopens: incident.reopens + 1,
        reopenedAt: now.toISOString(),
        // The trigger that reopened it is known however many events follow (like the opener).
        ...(eventKey !== undefined ? { reopenedBy: eventHash(eventKey) } : {}),
      },
      // The alert fired again: the mitigation did not hold, and impact (postmortem, checklist)
      // runs on until someone mitigates again. Its MITIGATED entry stays on the timeline.
      ['mitigatedAt', 'mitigatedBy'],
    );
  }

  async claimOpening(id: string, token: string, now: Date, until: Date): Promise<boolean> {
    return this.#updateIf(id, {
      expression: 'SET openLease = :token, openLeaseUntil = :until',
      // Its own token too: the SDK's retry of the creating upsert comes back `replayed`.
      condition:
        'attribute_exists(pk) AND attribute_not_exists(opening) AND (attribute_not_exists(openLease) OR openLease = :token OR openLeaseUntil < :now)',
      values: { ':token': token, ':until': until.toISOString(), ':now': now.toISOString() },
    });
  }

  async releaseOpening(id: string, token: string): Promise<void> {
    await this.#updateIf(id, {
      expression: 'REMOVE openLease, openLeaseUntil',
      condition: 'openLease = :token',
      values: { ':token': token },
    });
  }

  /** A conditional update of the incident `id` (or of the item `{ pk, sk }`): false when its condition failed. */
  async #updateIf(
    id: string | { pk: string; sk: string },
    update: { expression: string; condition: string; values: Record<string, unknown> },
  ): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: typeof id === 'string' ? { pk: incPk(id), sk: 'INC' } : id,
          UpdateExpression: update.expression,
          ConditionExpression: update.condition,
          ExpressionAttributeValues: update.values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async patch(incident: Incident, set: IncidentPatch): Promise<Incident | undefined> {
    // Absent optional fields stay as they are: only what the patch names is written.
    const defined = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
    return this.#conditionalUpdate(incident, { set: defined, condition: 'attribute_exists(pk)', values: {} });
  }

  /**
   * Acknowledge or resolve the open incident of the alert's key. A late retry may find the key
   * moved on past the incident it acted on: then the previous incident is checked for its cause.
   */
  async #transitionByKey(
    alert: Alert,
    to: 'acknowledged' | 'monitoring' | 'resolved',
    now: Date,
    who: string,
    options: { day?: string; monitoringUntil?: string },
  ): Promise<AlertOutcome> {
    const key = await this.#readKey(alert, this.#keys.get(keyPk(alert.service, alert.dedupKey)));
    const { occurrence } = key;
    // A late redelivery of an acknowledge/resolve that already acted on an earlier incident of
    // this key must not act on the current one: check the earlier incidents first.
    const hash = eventHash(alert.eventKey);
    const previous = await this.#earlierIncident(
      alert,
      occurrence,
      (item) =>
        item[TRANSITIONS[to].cause] === hash ||
        (TRANSITIONS[to].cause === 'resolveCause' && hasCause(item, hash)),
      key,
    );
    if (previous !== undefined) return { kind: 'replayed', incident: toIncident(previous), caused: to };
    const outcome = await this.transition(
      incidentIdFor(alert.service, alert.dedupKey, occurrence),
      to,
      now,
      who,
      alert.eventKey,
      options,
    );
    if (outcome.kind !== 'ignored') return outcome;
    // An alarm's OK that finds nothing open is remembered: an ALARM it overtook opens nothing.
    if (
      alert.origin === 'cloudwatch' &&
      to !== 'acknowledged' &&
      (outcome.incident === undefined || outcome.incident.status === 'resolved')
    )
      await this.#quietSince(alert, now);
    return outcome.incident === undefined
      ? { kind: 'ignored', reason: 'no open incident for this dedup key' }
      : outcome;
  }

  /**
   * Records on the key when this resolve (finding nothing open) was received — never later than
   * now — a no-op if a later one is known.
   */
  async #quietSince(alert: Alert, now: Date): Promise<void> {
    const pk = keyPk(alert.service, alert.dedupKey);
    this.#keys.delete(pk);
    await this.#updateIf(
      { pk, sk: 'KEY' },
      {
        expression: 'SET quietSince = :at',
        condition: 'attribute_not_exists(quietSince) OR quietSince < :at',
        values: { ':at': Math.min(Date.parse(alert.receivedAt), now.getTime()) },
      },
    );
  }

  async claimStep(
    incident: Incident,
    step: number,
    now: Date,
    exhausted: boolean,
    options: { offHours?: boolean } = {},
  ): Promise<Incident | undefined> {
    return this.#conditionalUpdate(incident, {
      set: {
        step,
        stepAt: now.toISOString(),
        escalations: incident.escalations + 1,
        ...(exhausted ? { escalation: 'exhausted' } : options.offHours ? { escalation: 'active' } : {}),
      },
      // `offHours`: a person escalates an incident waiting for business hours (it runs again).
      condition: options.offHours
        ? '#status = :triggered AND escalation = :stopped AND offHoursGeneration = generation'
        : '#status = :triggered AND escalation = :active',
      values: {
        ':triggered': 'triggered',
        ...(options.offHours ? { ':stopped': 'stopped' } : { ':active': 'active' }),
      },
    });
  }

  async restartEscalation(incident: Incident, now: Date): Promise<Incident | undefined> {
    return this.#restart(incident, now, 'acknowledged', {});
  }

  /** Back to triggered from `from`, escalating from step 0 in the next generation. */
  async #restart(
    incident: Incident,
    now: Date,
    from: 'acknowledged' | 'monitoring',
    extra: Record<string, unknown>,
    remove: readonly string[] = [],
  ): Promise<Incident | undefined> {
    return this.#conditionalUpdate(incident, {
      remove,
      set: {
        status: 'triggered',
        generation: incident.generation + 1,
        step: 0,
        stepAt: now.toISOString(),
        escalation: 'active',
        escalations: incident.escalations + 1, // an ack timeout's restart; a reopen overrides it
        ...extra,
      },
      condition: '#status = :from',
      values: { ':from': from },
    });
  }

  async stopEscalation(
    incident: Incident,
    now?: Date,
    options: { offHours?: boolean } = {},
  ): Promise<Incident | undefined> {
    return this.#conditionalUpdate(incident, {
      set: {
        generation: incident.generation + 1,
        escalation: 'stopped',
        ...(now ? { stoppedAt: now.toISOString() } : {}),
        ...(options.offHours ? { offHoursGeneration: incident.generation + 1 } : {}),
      },
      condition: '#status <> :resolved',
      values: { ':resolved': 'resolved' },
    });
  }

  async claimReminder(incident: Incident, seq: number, now: Date): Promise<Incident | undefined> {
    return this.#conditionalUpdate(incident, {
      set: { reminderSeq: seq, reminderAt: now.toISOString() },
      condition: '#status <> :resolved AND reminderSeq = :previous',
      values: { ':resolved': 'resolved', ':previous': seq - 1 },
    });
  }

  /**
   * SETs `set` (and REMOVEs `remove`) and bumps the version if the incident still has the version
   * it was read at and `condition` holds; undefined when it does not (someone else changed it first).
   */
  async #conditionalUpdate(
    incident: Incident,
    update: {
      set: Record<string, unknown>;
      remove?: readonly string[];
      condition: string;
      values: Record<string, unknown>;
    },
  ): Promise<Incident | undefined> {
    const names: Record<string, string> = update.condition.includes('#status') ? { '#status': 'status' } : {};
    const values: Record<string, unknown> = { ...update.values, ':version': incident.version, ':one': 1 };
    const assignments = Object.entries(update.set).map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      return `#a${i} = :a${i}`;
    });
    const removals = (update.remove ?? []).map((name, i) => {
      names[`#r${i}`] = name;
      return `#r${i}`;
    });
    try {
      const result = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: incPk(incident.id), sk: 'INC' },
          UpdateExpression: `SET ${assignments.join(', ')}${removals.length > 0 ? ` REMOVE ${removals.join(', ')}` : ''} ADD version :one`,
          ConditionExpression: `version = :version AND ${update.condition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toIncident(result.Attributes as Item);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
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
    const index = filter.service ? 'gsi1' : 'gsi2';
    const input: QueryCommandInput = {
      TableName: this.#table,
      ScanIndexForward: false,
      ExclusiveStartKey: decodeCursor(filter.cursor, [
        index,
        filter.service ? `SVC#${filter.service}` : 'INC',
      ]),
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
    // One more than the page, so that a cursor is given only when another incident follows: a
    // page that ends the list exactly (DynamoDB's LastEvaluatedKey is set when the query stops at
    // its Limit, more or not) had a cursor to an empty page. A filter can leave a read short; keep
    // reading until there is one more or the index ends.
    const items: Item[] = [];
    let lastKey: Item | undefined;
    do {
      const page = await this.#db.send(new QueryCommand({ ...input, Limit: limit + 1 - items.length }));
      items.push(...(page.Items ?? []));
      lastKey = page.LastEvaluatedKey;
      input.ExclusiveStartKey = lastKey;
    } while (lastKey !== undefined && items.length <= limit);
    const incidents = items.slice(0, limit).map(toIncident);
    const last = items[limit - 1];
    if (items.length <= limit || last === undefined) return { incidents };
    // The key of the page's last incident in the index: the next page starts after it.
    const key = Object.fromEntries(['pk', 'sk', `${index}pk`, `${index}sk`].map((k) => [k, last[k]])) as Item;
    return { incidents, nextCursor: encodeCursor(key) };
  }

  async openIncidentIds(service: string): Promise<string[]> {
    const ids: string[] = [];
    let start: Item | undefined;
    do {
      // No Limit: each Query reads up to 1 MB of the service's incidents (hundreds) and returns
      // the ids of those still open, instead of a round trip per hundred resolved ones.
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'gsi1',
          ScanIndexForward: false,
          KeyConditionExpression: 'gsi1pk = :pk',
          FilterExpression: '#status <> :resolved',
          ProjectionExpression: '#id',
          ExpressionAttributeNames: { '#status': 'status', '#id': 'id' },
          ExpressionAttributeValues: { ':pk': `SVC#${service}`, ':resolved': 'resolved' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) ids.push(String(item.id));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return ids;
  }

  async putTimelineEntry(entry: TimelineEntry, options: { ifAbsent?: boolean } = {}): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk: incPk(entry.incidentId), sk: timelineSk(entry), ...entry },
          ...(options.ifAbsent ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
        }),
      );
    } catch (error) {
      if (!(options.ifAbsent && error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async putTimelineEntryOnce(entry: TimelineEntry): Promise<{ entry: TimelineEntry; created: boolean }> {
    // The entry's sort key has its time in it, so two retries would write two items: the claim,
    // keyed by the id alone, is what only one of them can write. It holds the entry that won.
    const key = { pk: incPk(entry.incidentId), sk: `IDEM#${entry.id}` };
    let first = { entry, created: true };
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...key, entry },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const claim = await this.#getItem(key.pk, key.sk);
      if (!isItem(claim?.entry)) throw new RetryableError(`keyed entry ${entry.id} unreadable; retry`);
      first = { entry: toTimelineEntry(claim.entry), created: false };
    }
    await this.putTimelineEntry(first.entry);
    return first;
  }

  async putTimelineEntries(entries: readonly TimelineEntry[]): Promise<void> {
    const batches: (typeof entries)[] = [];
    for (let i = 0; i < entries.length; i += BATCH_WRITE_MAX)
      batches.push(entries.slice(i, i + BATCH_WRITE_MAX));
    const write = async (batch: typeof entries) => {
      let requests = batch.map((entry) => ({
        PutRequest: { Item: { pk: incPk(entry.incidentId), sk: timelineSk(entry), ...entry } },
      }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= BATCH_ATTEMPTS)
          throw new RetryableError('timeline entries kept going unprocessed; retry');
        // What DynamoDB leaves unprocessed (throttled) is sent again after a growing, jittered pause.
        if (attempt > 0)
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt) * Math.random()),
          );
        const result = await this.#db.send(
          new BatchWriteCommand({ RequestItems: { [this.#table]: requests } }),
        );
        requests = (result.UnprocessedItems?.[this.#table] ?? []) as typeof requests;
      }
    };
    for (let i = 0; i < batches.length; i += BATCH_CONCURRENCY)
      await Promise.all(batches.slice(i, i + BATCH_CONCURRENCY).map(write));
  }

  async hasTimelineEntry(entry: Pick<TimelineEntry, 'incidentId' | 'at' | 'type' | 'id'>): Promise<boolean> {
    return (await this.#getItem(incPk(entry.incidentId), timelineSk(entry))) !== undefined;
  }

  async timeline(incidentId: string): Promise<TimelineEntry[]> {
    const entries: { sk: string; entry: TimelineEntry }[] = [];
    let start: Item | undefined;
    do {
      // The incident item (which holds OPENED, see completeOpening) and the `TL#…` entries.
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :inc AND :tl',
          ExpressionAttributeValues: { ':pk': incPk(incidentId), ':inc': 'INC', ':tl': 'TL#\uffff' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.sk !== 'INC') entries.push({ sk: String(item.sk), entry: toTimelineEntry(item) });
        else if (isItem(item.opening)) {
          const entry = toTimelineEntry(item.opening);
          entries.push({ sk: timelineSk(entry), entry });
        }
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    // The OPENED entry read first goes where its time puts it (an alert's own time may be earlier).
    return entries.sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0)).map((e) => e.entry);
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

  async completeOpening(incidentId: string, opened: TimelineEntry, sent: number): Promise<void> {
    await this.#updateIf(incidentId, {
      expression: 'SET opening = :opened ADD pagesSent :sent REMOVE openLease, openLeaseUntil',
      condition: 'attribute_exists(pk) AND attribute_not_exists(opening)',
      values: { ':opened': opened, ':sent': sent },
    });
  }

  async countPages(incidentId: string, sent: number): Promise<void> {
    if (sent <= 0) return;
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: incPk(incidentId), sk: 'INC' },
        UpdateExpression: 'ADD pagesSent :n',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':n': sent },
      }),
    );
  }

  async setExcluded(incidentId: string, excluded: boolean): Promise<Incident | undefined> {
    try {
      const result = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: incPk(incidentId), sk: 'INC' },
          UpdateExpression: 'SET excluded = :excluded',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':excluded': excluded },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toIncident(result.Attributes as Item);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async incidentsOfDay(day: string): Promise<{ incidents: Incident[]; itemsRead: number }> {
    const incidents: Incident[] = [];
    let itemsRead = 0;
    let start: Item | undefined;
    do {
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'gsi3',
          KeyConditionExpression: 'gsi3pk = :day',
          ExpressionAttributeValues: { ':day': `DAY#${day}` },
          ExclusiveStartKey: start,
        }),
      );
      itemsRead += page.ScannedCount ?? 0;
      for (const item of page.Items ?? []) incidents.push(toIncident(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return { incidents, itemsRead };
  }

  /**
   * The latest resolution among the service's last `window` incidents detected before `before`
   * (newest first on gsi1), and those of them that started by `before` but were not resolved
   * then. A longer incident detected earlier can resolve later than a newer one, so this looks at
   * a window, not just the previous incident; 50 covers any realistic overlap at one read page.
   * An incident detected more than `window` incidents of the service earlier is not seen: one left
   * open that long no longer marks the service as failing (docs/METRICS.md).
   */
  async previousResolution(service: string, before: string, window = 50): Promise<PreviousResolution> {
    // Times are compared as instants (stored ones may carry offsets); the sort key is UTC ISO.
    const beforeMs = instant(before, 'before');
    const page = await this.#db.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :before',
        ExpressionAttributeValues: { ':pk': `SVC#${service}`, ':before': new Date(beforeMs).toISOString() },
        ScanIndexForward: false,
        Limit: window,
      }),
    );
    let latest: { at: string; ms: number } | undefined;
    const unresolved: PreviousResolution['unresolved'][number][] = [];
    for (const item of page.Items ?? []) {
      if (item.excluded === true) continue;
      const resolvedAt = typeof item.resolvedAt === 'string' ? item.resolvedAt : undefined;
      const ms = resolvedAt === undefined ? undefined : instant(resolvedAt, `${String(item.id)} resolvedAt`);
      if (resolvedAt !== undefined && ms !== undefined && ms <= beforeMs) {
        if (latest === undefined || ms > latest.ms) latest = { at: resolvedAt, ms };
      } else if (instant(String(item.startedAt), `${String(item.id)} startedAt`) <= beforeMs) {
        // Still failing at `before`: open, or resolved after it (an overlap).
        unresolved.push({
          id: String(item.id),
          startedAt: String(item.startedAt),
          ...(resolvedAt === undefined ? {} : { resolvedAt }),
        });
      }
    }
    return { resolvedAt: latest?.at, unresolved };
  }

  async putRollups(day: string, rollups: readonly Rollup[]): Promise<void> {
    const key = (r: Pick<Rollup, 'service' | 'severity'>) => `${r.service}#${r.severity}`;
    const keep = new Set<string>();
    for (const rollup of rollups) {
      // The row without its samples, then the samples (exact period percentiles need them) in
      // chunks: a busy day's per-service row can hold hundreds of thousands of durations.
      const { samples, ...row } = rollup;
      const chunks = chunk(JSON.stringify(samples), SAMPLES_CHUNK_BYTES);
      const items = [
        { sk: key(rollup), attributes: { rollup: JSON.stringify(row), chunks: chunks.length } },
        ...chunks.map((text, i) => ({
          sk: `${key(rollup)}#samples#${String(i).padStart(4, '0')}`,
          attributes: { samples: text },
        })),
      ];
      for (const item of items) {
        keep.add(item.sk);
        await this.#db.send(
          new PutCommand({
            TableName: this.#table,
            Item: {
              pk: `ROLLUP#${day}`,
              sk: item.sk,
              gsi2pk: 'ROLLUP',
              gsi2sk: `${day}#${item.sk}`,
              ...item.attributes,
            },
          }),
        );
      }
    }
    // A re-run with fewer groups or chunks leaves exactly the new set.
    const existing = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `ROLLUP#${day}` },
    });
    for (const item of existing) {
      if (!keep.has(String(item.sk))) {
        await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: { pk: item.pk, sk: item.sk } }));
      }
    }
  }

  async listRollups(from: string, to: string): Promise<Rollup[]> {
    const items = await this.#queryAll({
      IndexName: 'gsi2',
      ConsistentRead: false,
      KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': 'ROLLUP', ':from': `${from}#`, ':to': `${to}#\uffff` },
    });
    // Rows sort before their sample chunks (`<key>` < `<key>#samples#0000`), chunks in order.
    const rollups: Rollup[] = [];
    let pending: { row: Omit<Rollup, 'samples'>; chunks: number; text: string[] } | undefined;
    const flush = () => {
      if (pending && pending.text.length === pending.chunks) {
        rollups.push({ ...pending.row, samples: JSON.parse(pending.text.join('')) as Rollup['samples'] });
      }
      pending = undefined;
    };
    for (const item of items) {
      if (typeof item.rollup === 'string') {
        flush();
        pending = {
          row: JSON.parse(item.rollup) as Omit<Rollup, 'samples'>,
          chunks: Number(item.chunks),
          text: [],
        };
      } else if (typeof item.samples === 'string' && pending) {
        pending.text.push(item.samples);
      }
    }
    flush();
    return rollups;
  }

  async claimBudgetNotice(service: string, month: string, at: Date): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: `BUDGET#${service}`, sk: month },
          // The first claim's time stays: it is when the exhaustion was recorded, which every
          // resolution of the month (and its retries) is compared with (budgetExhaustedAt).
          UpdateExpression: 'SET claimedAt = if_not_exists(claimedAt, :at), done = :false',
          // Claimed but never completed (the announcement failed): the next run makes it.
          ConditionExpression: 'attribute_not_exists(pk) OR done = :false',
          ExpressionAttributeValues: { ':false': false, ':at': at.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async completeBudgetNotice(service: string, month: string): Promise<void> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: `BUDGET#${service}`, sk: month },
        UpdateExpression: 'SET done = :true',
        ExpressionAttributeValues: { ':true': true },
      }),
    );
  }

  async budgetExhaustedAt(service: string, month: string): Promise<string | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: `BUDGET#${service}`, sk: month },
        ProjectionExpression: 'claimedAt',
        ConsistentRead: true,
      }),
    );
    return typeof Item?.claimedAt === 'string' ? Item.claimedAt : undefined;
  }

  async recordPing(heartbeatId: string, at: Date): Promise<void> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: `HB#${heartbeatId}`, sk: 'HB' },
          UpdateExpression: 'SET lastPing = :at',
          // ISO times in UTC sort as they compare.
          ConditionExpression: 'attribute_not_exists(lastPing) OR lastPing < :at',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async lastPing(heartbeatId: string): Promise<string | undefined> {
    const item = await this.#getItem(`HB#${heartbeatId}`, 'HB');
    return typeof item?.lastPing === 'string' ? item.lastPing : undefined;
  }

  async putMaintenance(window: MaintenanceWindow): Promise<void> {
    await this.#db.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk: `MW#${window.service}`,
          sk: `${window.to}#${window.id}`,
          ...window,
          expiresAt: expiry(window.to),
        },
      }),
    );
  }

  async listMaintenance(service: string, now: Date): Promise<MaintenanceWindow[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk AND sk > :now',
      ExpressionAttributeValues: { ':pk': `MW#${service}`, ':now': now.toISOString() },
    });
    return items.map((item) => ({
      id: String(item.id),
      service: String(item.service),
      from: String(item.from),
      to: String(item.to),
      createdAt: String(item.createdAt),
      ...(typeof item.reason === 'string' ? { reason: item.reason } : {}),
    }));
  }

  async deleteMaintenance(service: string, id: string): Promise<boolean> {
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: '#id = :id',
      ExpressionAttributeNames: { '#id': 'id' },
      ExpressionAttributeValues: { ':pk': `MW#${service}`, ':id': id },
    });
    for (const item of items) {
      await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: { pk: item.pk, sk: item.sk } }));
    }
    return items.length > 0;
  }

  async putOverride(override: ScheduleOverride): Promise<void> {
    await this.#db.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk: `OVR#${override.scheduleId}`,
          sk: `${override.to}#${override.id}`,
          ...override,
          expiresAt: expiry(override.to),
        },
      }),
    );
  }

  async listOverrides(scheduleId: string, now: Date): Promise<ScheduleOverride[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk AND sk > :now',
      ExpressionAttributeValues: { ':pk': `OVR#${scheduleId}`, ':now': now.toISOString() },
    });
    return items.map((item) => ({
      id: String(item.id),
      scheduleId: String(item.scheduleId),
      from: String(item.from),
      to: String(item.to),
      responder: String(item.responder),
      ...(typeof item.replaces === 'string' ? { replaces: item.replaces } : {}),
    }));
  }

  async deleteOverride(scheduleId: string, id: string): Promise<boolean> {
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: '#id = :id',
      ExpressionAttributeNames: { '#id': 'id' },
      ExpressionAttributeValues: { ':pk': `OVR#${scheduleId}`, ':id': id },
    });
    for (const item of items) {
      await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: { pk: item.pk, sk: item.sk } }));
    }
    return items.length > 0;
  }

  async takeThrottle(
    key: string,
    decide: (history: readonly number[]) => { allowed: boolean; history: number[] },
  ): Promise<boolean> {
    for (let attempt = 0; attempt < THROTTLE_ATTEMPTS; attempt++) {
      // What this process last wrote may still be current (the version condition checks); a
      // refusal is only ever decided on a fresh read.
      const cached = attempt === 0 ? this.#throttles.get(key) : undefined;
      let { version, history } = cached ?? (await this.#readThrottle(key));
      let decision = decide(history);
      if (!decision.allowed && cached !== undefined) {
        ({ version, history } = await this.#readThrottle(key));
        decision = decide(history);
      }
      if (!decision.allowed) return false;
      try {
        await this.#db.send(
          new PutCommand({
            TableName: this.#table,
            Item: {
              pk: `THR#${key}`,
              sk: 'THR',
              sent: decision.history,
              version: version + 1,
              expiresAt: Math.ceil(Date.now() / 1000) + 86_400,
            },
            ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : 'version = :version',
            ...(version === 0 ? {} : { ExpressionAttributeValues: { ':version': version } }),
          }),
        );
        this.#throttles.set(key, { version: version + 1, history: decision.history });
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        this.#throttles.delete(key);
        // Many pages to one contact at once (a storm): back off with jitter before reading again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * (attempt + 1)));
      }
    }
    throw new RetryableError(`throttle ${key} kept racing; retry`);
  }

  async holdPage(key: string, incidentId: string, due: number): Promise<void> {
    const item = { pk: `THR#${key}`, sk: 'HELD' };
    const values = { ':due': due, ':expires': Math.ceil(Date.now() / 1000) + 86_400, ':max': HELD_MAX };
    // Named while the set has room (or names it already: a retry); counted only while it is full.
    // A digest may empty the set between the two: then naming is tried again.
    for (let attempt = 0; attempt < THROTTLE_ATTEMPTS; attempt++) {
      const named = await this.#updateIf(item, {
        expression: 'ADD held :id SET due = if_not_exists(due, :due), expiresAt = :expires',
        condition: 'attribute_not_exists(held) OR size(held) < :max OR contains(held, :idText)',
        values: { ...values, ':id': new Set([incidentId]), ':idText': incidentId },
      });
      if (named) return;
      const counted = await this.#updateIf(item, {
        expression: 'ADD overflow :one SET due = if_not_exists(due, :due), expiresAt = :expires',
        condition: 'size(held) >= :max',
        values: { ...values, ':one': 1 },
      });
      if (counted) return;
    }
    throw new RetryableError(`held pages of ${key} kept changing; retry`);
  }

  async heldPages(key: string): Promise<HeldPages> {
    // The held set and the throttle history: two items of one partition, one Query.
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `THR#${key}` },
    });
    const held = items.find((i) => i.sk === 'HELD');
    const sent = items.find((i) => i.sk === 'THR')?.sent;
    return {
      incidentIds: held?.held instanceof Set ? [...held.held].map(String).sort() : [],
      overflow: typeof held?.overflow === 'number' ? held.overflow : 0,
      ...(typeof held?.due === 'number' ? { due: held.due } : {}),
      history: Array.isArray(sent) ? sent.map(Number) : [],
    };
  }

  async releaseHeld(
    key: string,
    held: Pick<HeldPages, 'incidentIds' | 'overflow'>,
    due: number,
  ): Promise<boolean> {
    const ids = held.incidentIds.length > 0;
    const overflow = held.overflow > 0;
    if (!ids && !overflow) return true;
    return this.#updateIf(
      { pk: `THR#${key}`, sk: 'HELD' },
      {
        // Subtracted, not zeroed: what was counted since the read stays for the next digest.
        expression: [
          ...(ids ? ['DELETE held :ids'] : []),
          ...(overflow ? ['SET overflow = overflow - :n'] : []),
        ].join(' '),
        condition: overflow ? 'due = :due AND overflow >= :n' : 'due = :due',
        values: {
          ':due': due,
          ...(ids ? { ':ids': new Set(held.incidentIds) } : {}),
          ...(overflow ? { ':n': held.overflow } : {}),
        },
      },
    );
  }

  async moveDigest(key: string, from: number, to: number | undefined): Promise<boolean> {
    return this.#updateIf(
      { pk: `THR#${key}`, sk: 'HELD' },
      to === undefined
        ? {
            expression: 'REMOVE due, overflow',
            condition:
              'due = :from AND attribute_not_exists(held) AND (attribute_not_exists(overflow) OR overflow <= :zero)',
            values: { ':from': from, ':zero': 0 },
          }
        : { expression: 'SET due = :to', condition: 'due = :from', values: { ':from': from, ':to': to } },
    );
  }

  async putDigest(digest: DigestRecord, expiresAt: Date): Promise<void> {
    await this.#db.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk: `DIG#${digest.id}`,
          sk: 'DIG',
          ...digest,
          expiresAt: Math.ceil(expiresAt.getTime() / 1000),
        },
        // Each message's list is written once (its id is new): never rewritten under its link.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getDigest(id: string): Promise<DigestRecord | undefined> {
    const item = await this.#getItem(`DIG#${id}`, 'DIG');
    if (item === undefined) return undefined;
    return {
      id: String(item.id),
      contact: String(item.contact),
      responderId: String(item.responderId),
      incidentIds: Array.isArray(item.incidentIds) ? item.incidentIds.map(String) : [],
      sentAt: String(item.sentAt),
    };
  }

  async #readThrottle(key: string): Promise<{ version: number; history: number[] }> {
    const item = await this.#getItem(`THR#${key}`, 'THR');
    return {
      version: typeof item?.version === 'number' ? item.version : 0,
      history: Array.isArray(item?.sent) ? item.sent.map(Number) : [],
    };
  }

  async #queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          ConsistentRead: true,
          ExclusiveStartKey: start,
          ...input,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /**
   * The earlier incident of the alert's key that `matches`, newest first. Only incidents resolved
   * after the alert was received can have counted it, so the walk stops at the first one resolved
   * before (without matching it): usually one read (the previous incident), more only for a
   * redelivery that arrives after several incidents of its key came and went.
   */
  async #earlierIncident(
    alert: Alert,
    occurrence: number,
    matches: (item: Item) => boolean,
    key: KeyState,
  ): Promise<Item | undefined> {
    for (let n = occurrence - 1; n >= 0 && n >= occurrence - MAX_LOOKBACK; n--) {
      const item = await this.#getItem(incPk(incidentIdFor(alert.service, alert.dedupKey, n)), 'INC');
      if (item === undefined) return undefined;
      const resolvedAt = typeof item.resolvedAt === 'string' ? Date.parse(item.resolvedAt) : undefined;
      if (n === occurrence - 1 && resolvedAt !== undefined) {
        key.previousResolvedAt = String(item.resolvedAt);
        if (setSize(item) <= PREVIOUS_MAX_HASHES) key.previous = item;
      }
      // Resolved before the alert was received: neither it nor any earlier one counted it.
      if (resolvedAt !== undefined && resolvedAt < Date.parse(alert.receivedAt)) return undefined;
      if (matches(item)) return item;
    }
    return undefined;
  }

  /**
   * Reads a key (consistently) and remembers it for the next trigger of the key; what `cached`
   * learnt of the incident before the same occurrence is kept.
   */
  async #readKey(alert: Pick<Alert, 'service' | 'dedupKey'>, cached?: KeyState): Promise<KeyState> {
    const item = await this.#getItem(keyPk(alert.service, alert.dedupKey), 'KEY');
    const occurrence = typeof item?.occurrence === 'number' ? item.occurrence : 0;
    const key: KeyState = {
      occurrence,
      ...(cached?.occurrence === occurrence
        ? { previous: cached.previous, previousResolvedAt: cached.previousResolvedAt, exists: cached.exists }
        : {}),
      ...(typeof item?.quietSince === 'number' ? { quietSince: item.quietSince } : {}),
    };
    this.#keys.set(keyPk(alert.service, alert.dedupKey), key);
    return key;
  }

  async #occurrence(service: string, dedupKey: string): Promise<number> {
    const item = await this.#getItem(keyPk(service, dedupKey), 'KEY');
    return typeof item?.occurrence === 'number' ? item.occurrence : 0;
  }

  /** Moves the key past `occurrence`; a no-op when someone already did. */
  async #advance(service: string, dedupKey: string, occurrence: number): Promise<void> {
    this.#keys.delete(keyPk(service, dedupKey));
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
function timelineSk(entry: Pick<TimelineEntry, 'at' | 'type' | 'id'>): string {
  return `TL#${entry.at}#${String(TIMELINE_TYPES.indexOf(entry.type)).padStart(2, '0')}#${entry.id}`;
}

/** Splits text into pieces of at most `size` UTF-16 units (≤ 3 bytes each in UTF-8: keep `size` low). */
function chunk(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size / 3) pieces.push(text.slice(i, i + size / 3));
  return pieces.length > 0 ? pieces : [''];
}

/** TTL (epoch seconds) a day after something ends: DynamoDB deletes it then. */
function expiry(iso: string): number {
  return Math.ceil(new Date(iso).getTime() / 1000) + 86_400;
}

/**
 * When an incident starts: the alert's own timestamp (else when it was received), but not before
 * the key's previous incident was resolved — an alert re-sent after a resolution (Alertmanager's
 * repeat of a still-firing alert keeps its `startsAt`) opens an incident that starts then, so two
 * incidents never cover the same time (MTTR, downtime, MTBF). As toISOString writes it.
 */
function startOf(alert: Alert, previousResolvedAt: string | undefined): string {
  const given = alert.occurredAt ?? alert.receivedAt;
  const own = Date.parse(given);
  const floor = previousResolvedAt === undefined ? Number.NaN : Date.parse(previousResolvedAt);
  if (Number.isNaN(own)) return given; // the formats validate timestamps; never fail an alert here
  return new Date(Number.isNaN(floor) ? own : Math.max(own, floor)).toISOString();
}

/** The alert's start if it is before the incident's recorded start (by instant), else undefined. */
function earlierStart(alert: Alert, item: Item, previousResolvedAt: string | undefined): string | undefined {
  if (alert.occurredAt === undefined || typeof item.startedAt !== 'string') return undefined;
  const start = startOf(alert, previousResolvedAt);
  return Date.parse(start) < Date.parse(item.startedAt) ? start : undefined;
}

/** Whether the incident item counted this event: its opener, reopener, or in either generation of `seen`. */
function hasSeen(item: Item, hash: string): boolean {
  return (
    item.openedBy === hash ||
    item.reopenedBy === hash ||
    (item.seen instanceof Set && item.seen.has(hash)) ||
    (item.seenPrev instanceof Set && item.seenPrev.has(hash))
  );
}

/**
 * Whether the incident item counted this event: it has seen it, and the event was received before
 * the incident's resolve was asked for. An event received after that (a monitoring incident's
 * alert firing again, a sender repeating a still-firing alert) is new even if its key is known —
 * during monitoring the first such alert counts and reopens the incident (a reopen left undone
 * by a failure is the period's timer's: it finds alertCount past monitoringCount); after the
 * resolution it opens the next incident.
 */
function countedBy(item: Item, hash: string, receivedAt: number): boolean {
  if (!hasSeen(item, hash)) return false;
  if (item.status === 'resolved') return !(Date.parse(String(item.resolvedAt)) < receivedAt);
  // In monitoring, only the first alert since the period began counts again (it reopens the
  // incident): after it, a retry of that alert must not count twice.
  if (item.status === 'monitoring')
    return !(
      Date.parse(String(item.monitoringSince)) < receivedAt && item.alertCount === item.monitoringCount
    );
  return true;
}

/** Counts an event into an incident known to exist, if it is open and has not counted the event. */
function appendCommand(
  table: string,
  id: string,
  seen: string,
  nowIso: string,
  receivedIso: string,
): UpdateCommand {
  return new UpdateCommand({
    TableName: table,
    Key: { pk: incPk(id), sk: 'INC' },
    UpdateExpression: 'SET lastAlertAt = :now ADD alertCount :one, seen :seenSet',
    ConditionExpression: notCounted('attribute_exists(pk) AND #status <> :resolved'),
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: {
      ':now': nowIso,
      ':one': 1,
      ':resolved': 'resolved',
      ':monitoring': 'monitoring',
      ':receivedAt': receivedIso,
      ':seen': seen,
      ':seenSet': new Set([seen]),
    },
    ReturnValues: 'ALL_NEW',
  });
}

/** Opens the incident with every base field, or counts the event into it (the theory above). */
function upsertCommand(
  table: string,
  id: string,
  alert: Alert,
  occurrence: number,
  seen: string,
  nowIso: string,
  receivedIso: string,
  options: TriggerOptions,
  previousResolvedAt: string | undefined,
): UpdateCommand {
  const startedAt = startOf(alert, previousResolvedAt);
  return new UpdateCommand({
    TableName: table,
    Key: { pk: incPk(id), sk: 'INC' },
    UpdateExpression: `${[
      'SET #id = if_not_exists(#id, :id), service = if_not_exists(service, :service)',
      'dedupKey = if_not_exists(dedupKey, :dedupKey), occurrence = if_not_exists(occurrence, :occurrence)',
      '#status = if_not_exists(#status, :triggered), title = if_not_exists(title, :title)',
      '#source = if_not_exists(#source, :source), severity = if_not_exists(severity, :severity)',
      'origin = if_not_exists(origin, :origin), startedAt = if_not_exists(startedAt, :startedAt)',
      'detectedAt = if_not_exists(detectedAt, :now), version = if_not_exists(version, :one)',
      'openedBy = if_not_exists(openedBy, :seen), generation = if_not_exists(generation, :one)',
      'step = if_not_exists(step, :zero), stepAt = if_not_exists(stepAt, :now)',
      'escalation = if_not_exists(escalation, :active), reminderSeq = if_not_exists(reminderSeq, :zero)',
      'sev = if_not_exists(sev, :sev), links = if_not_exists(links, :links)',
      'reopens = if_not_exists(reopens, :zero)',
      ...(options.openingLease
        ? [
            'openLease = if_not_exists(openLease, :lease), openLeaseUntil = if_not_exists(openLeaseUntil, :leaseUntil)',
          ]
        : []),
      ...(options.escalationPolicy ? ['escalationPolicy = if_not_exists(escalationPolicy, :policy)'] : []),
      ...(options.impact ? ['impact = if_not_exists(impact, :impact)'] : []),
      // Always, NULL without one: the opening alert's (or its lack) stays, whichever process
      // later upserts into the incident (a warm one appends without it).
      'description = if_not_exists(description, :description)',
      ...(options.timeZone
        ? ['gsi3pk = if_not_exists(gsi3pk, :day), gsi3sk = if_not_exists(gsi3sk, :daySk)']
        : []),
      'gsi1pk = if_not_exists(gsi1pk, :gsi1pk), gsi1sk = if_not_exists(gsi1sk, :gsiSk)',
      'gsi2pk = if_not_exists(gsi2pk, :gsi2pk), gsi2sk = if_not_exists(gsi2sk, :gsiSk)',
      'lastAlertAt = :now',
    ].join(', ')} ADD alertCount :one, seen :seenSet`,
    ConditionExpression: `attribute_not_exists(pk) OR ${notCounted('#status <> :resolved')}`,
    ExpressionAttributeNames: { '#id': 'id', '#status': 'status', '#source': 'source' },
    ExpressionAttributeValues: {
      ':id': id,
      ':service': alert.service,
      ':dedupKey': alert.dedupKey,
      ':occurrence': occurrence,
      ':triggered': 'triggered',
      ':resolved': 'resolved',
      ':monitoring': 'monitoring',
      ':receivedAt': receivedIso,
      ':title': alert.summary,
      ':source': alert.source,
      ':severity': alert.severity,
      ':origin': alert.origin,
      ':startedAt': startedAt,
      ':now': nowIso,
      ':one': 1,
      ':zero': 0,
      ':active': 'active',
      ':sev': options.sev ?? mapSourceSeverity(alert.severity),
      ':links': alert.links.slice(0, 20),
      ...(options.openingLease
        ? {
            ':lease': options.openingLease.token,
            ':leaseUntil': options.openingLease.until.toISOString(),
          }
        : {}),
      ...(options.escalationPolicy ? { ':policy': options.escalationPolicy } : {}),
      ...(options.impact ? { ':impact': options.impact } : {}),
      ':description': alert.description ?? null,
      // Open, it belongs to the day of the start it is given here (not of the alert's own time).
      ...(options.timeZone
        ? {
            ':day': `DAY#${incidentDay({ startedAt }, options.timeZone)}`,
            ':daySk': `${alert.service}#${id}`,
          }
        : {}),
      ':seen': seen,
      ':seenSet': new Set([seen]),
      ':gsi1pk': `SVC#${alert.service}`,
      ':gsi2pk': 'INC',
      ':gsiSk': `${nowIso}#${id}`,
    },
    ReturnValues: 'ALL_NEW',
  });
}

/**
 * Whether the writer that got this item back rotates `seen`: the one whose event filled the
 * generation, and (should it have died first) every 16th after it.
 */
function rotates(item: Item): boolean {
  const size = sizeOf(item.seen);
  return size >= SEEN_WINDOW && (size - SEEN_WINDOW) % 16 === 0;
}

/**
 * No incident of the key starts before the previous one was resolved, nor before a resolve that
 * found nothing open (`quietSince`): the later of the two.
 */
function startFloor(key: KeyState): string | undefined {
  const previous = key.occurrence > 0 ? key.previousResolvedAt : undefined;
  if (key.quietSince === undefined) return previous;
  const quiet = new Date(key.quietSince).toISOString();
  return previous === undefined || Date.parse(previous) < key.quietSince ? quiet : previous;
}

/** A trigger that a resolve received after it overtook (`quietSince`), with nothing open to count it into. */
function overtakenBy(quietSince: number | undefined): AlertOutcome {
  const at = new Date(quietSince ?? 0).toISOString();
  return {
    kind: 'ignored',
    reason: `a resolve received after this trigger (at ${at}) found nothing open: the alert was over before it could open an incident`,
  };
}

/** A trigger the incident item already counted: what its first delivery did (opened it, or counted into it). */
function replayOf(item: Item, hash: string): AlertOutcome {
  return {
    kind: 'replayed',
    incident: toIncident(item),
    caused: item.openedBy === hash ? 'opened' : 'appended',
  };
}

/** How many event hashes the item keeps in `seen` and `seenPrev`. */
function setSize(item: Item): number {
  return sizeOf(item.seen) + sizeOf(item.seenPrev);
}

/** The size of a set attribute; 0 when it is absent. */
function sizeOf(value: unknown): number {
  return value instanceof Set ? value.size : 0;
}

/**
 * The condition form of `hasSeen`, negated (`:seen` is the event's hash; the item exists). On the
 * string `reopenedBy`, contains is equality (hashes have one length) and false when it is absent.
 */
const NOT_SEEN =
  'NOT contains(seen, :seen) AND NOT contains(seenPrev, :seen) AND openedBy <> :seen AND NOT contains(reopenedBy, :seen)';

/**
 * The condition form of `countedBy`, negated, for an item that exists (`open`: the condition that
 * it is not resolved): open and not seen, or in monitoring and seen but received after the period
 * began while nothing was counted since (`:receivedAt` and monitoringSince are both
 * toISOString's). Written flat, without parentheses (AND binds before OR): dynalite's parser
 * backtracks over nested parentheses, and the nested form made every trigger on the local engines
 * two to three times slower. The second branch does not repeat `open`: `#status = :monitoring`
 * implies it (a comparison with an absent attribute is false), and every trigger parses this.
 */
function notCounted(open: string): string {
  return `${open} AND ${NOT_SEEN} OR #status = :monitoring AND monitoringSince < :receivedAt AND alertCount = monitoringCount`;
}

/**
 * Each transition: the statuses it may start from, what it sets besides status, and the attribute
 * that remembers the cause of the latest one (a replay of that cause is recognised, not applied).
 */
const TRANSITIONS: Readonly<Record<Transition, { from: readonly string[]; set: string; cause: string }>> = {
  acknowledged: {
    from: ['triggered'],
    set: 'acknowledgedAt = if_not_exists(acknowledgedAt, :now), lastAcknowledgedAt = :now, acknowledgedBy = :who',
    cause: 'ackCause',
  },
  // Mitigating an unacknowledged incident acknowledges it too (for MTTA): someone is on it.
  mitigated: {
    from: ['triggered', 'acknowledged'],
    set: 'mitigatedAt = :now, mitigatedBy = :who, acknowledgedAt = if_not_exists(acknowledgedAt, :now), acknowledgedBy = if_not_exists(acknowledgedBy, :who)',
    cause: 'mitigateCause',
  },
  monitoring: {
    from: ['triggered', 'acknowledged', 'mitigated'],
    set: 'monitoringSince = :now, monitoringBy = :who, monitoringUntil = :until, monitoringCount = alertCount',
    cause: 'resolveCause',
  },
  resolved: {
    from: ['triggered', 'acknowledged', 'mitigated', 'monitoring'],
    set: 'resolvedAt = :resolvedAt, resolvedBy = :who, closedAt = :now',
    cause: 'resolveCause',
  },
};

/** Whether the item's set of resolve causes holds this one. */
function hasCause(item: Item, hash: string): boolean {
  return item.resolveCauses instanceof Set && item.resolveCauses.has(hash);
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
    ...optional('lastAcknowledgedAt'),
    ...optional('reminderAt'),
    ...optional('stoppedAt'),
    ...optional('resumedAt'),
    ...optional('resumedBy'),
    ...optional('resolvedAt'),
    ...optional('resolvedBy'),
    ...optional('mitigatedAt'),
    ...optional('mitigatedBy'),
    ...optional('monitoringSince'),
    ...optional('monitoringBy'),
    ...optional('monitoringUntil'),
    ...(typeof item.monitoringCount === 'number' ? { monitoringCount: item.monitoringCount } : {}),
    ...optional('closedAt'),
    ...optional('reopenedAt'),
    ...optional('postmortemRequiredAt'),
    ...optional('postmortemBudgetMonth'),
    ...(typeof item.impactSev === 'string' ? { impactSev: item.impactSev as Incident['sev'] } : {}),
    ...optional('postmortemDoneAt'),
    ...optional('postmortemDoneBy'),
    sev: (item.sev ?? mapSourceSeverity(item.severity as Incident['severity'])) as Incident['sev'],
    ...(isItem(item.impact) ? { impact: item.impact as Incident['impact'] } : {}),
    reopens: Number(item.reopens ?? 0),
    ...(item.monitored === true ? { monitored: true } : {}),
    severityChanges: Number(item.severityChanges ?? 0),
    ...optional('severityChangedAt'),
    ...(typeof item.severityFrom === 'string' ? { severityFrom: item.severityFrom as Incident['sev'] } : {}),
    roles: (item.roles ?? {}) as Incident['roles'],
    smes: Array.isArray(item.smes) ? item.smes.map(String) : [],
    rolesAt: (item.rolesAt ?? {}) as Incident['rolesAt'],
    ...(isItem(item.leases) ? { leases: item.leases as Incident['leases'] } : {}),
    ...(isItem(item.snooze) ? { snooze: item.snooze as unknown as Incident['snooze'] } : {}),
    checklist: (item.checklist ?? {}) as Incident['checklist'],
    links: Array.isArray(item.links) ? (item.links as Incident['links']) : [],
    ...optional('description'),
    reassessSeq: Number(item.reassessSeq ?? 0),
    alertCount: Number(item.alertCount),
    lastAlertAt: String(item.lastAlertAt),
    version: Number(item.version),
    ...optional('escalationPolicy'),
    generation: Number(item.generation ?? 1),
    step: Number(item.step ?? 0),
    stepAt: String(item.stepAt ?? item.detectedAt),
    escalation: (item.escalation ?? 'active') as Incident['escalation'],
    reminderSeq: Number(item.reminderSeq ?? 0),
    escalations: Number(item.escalations ?? 0),
    ...(typeof item.offHoursGeneration === 'number' ? { offHoursGeneration: item.offHoursGeneration } : {}),
    pagesSent: Number(item.pagesSent ?? 0),
    ...(isItem(item.opening) ? { opened: true as const } : {}),
    excluded: item.excluded === true,
  };
}

function isItem(value: unknown): value is Item {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function toTimelineEntry(item: Item): TimelineEntry {
  return {
    id: String(item.id),
    incidentId: String(item.incidentId),
    at: String(item.at),
    type: item.type as TimelineEntry['type'],
    who: String(item.who),
    text: String(item.text),
    ...(Array.isArray(item.paged) ? { paged: item.paged.map(String) } : {}),
    ...(Array.isArray(item.throttled) ? { throttled: item.throttled.map(String) } : {}),
  };
}

const CURSOR_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk']);

function isKey(value: unknown): value is Item {
  if (!isItem(value)) return false;
  const entries = Object.entries(value);
  return entries.length > 0 && entries.every(([k, v]) => CURSOR_ATTRIBUTES.has(k) && typeof v === 'string');
}

function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * A cursor is the last key of a page of `index`: exactly the table's and the index's key
 * attributes, for the same index partition. Anything else would make DynamoDB refuse the query.
 */
function decodeCursor(
  cursor: string | undefined,
  [index, partition]: ['gsi1' | 'gsi2', string],
): Item | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const expected = ['pk', 'sk', `${index}pk`, `${index}sk`];
    if (
      isKey(value) &&
      Object.keys(value).length === expected.length &&
      expected.every((k) => k in value) &&
      value[`${index}pk`] === partition &&
      String(value.pk).startsWith('INC#') &&
      value.sk === 'INC'
    ) {
      return value;
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('invalid cursor', [
    { field: 'cursor', message: 'not a cursor returned by this API' },
  ]);
}
