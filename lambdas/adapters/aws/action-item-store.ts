import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ActionItemChange, ActionItemRecord, ActionItemStore } from '#app/ports';
import { RetryableError } from '#core/errors';
import type { ActionCategory } from '#core/postmortem';
import { defaultDocumentClient } from './dynamodb-client.ts';

/**
 * Postmortem action items, on the incident store's single table (see dynamodb-store.ts):
 *
 *   INC#<incidentId> / ACT#<id>     the item, next to its incident: get = one GetItem, an
 *                                   incident's items = one Query on `begins_with(sk, 'ACT#')`
 *   gsi2  ACT#<status> / <deadline>#<incidentId>#<id>
 *                                   every open (or done) item across incidents, by deadline
 *   ACTREM / <day>#<contact>        a follow-up notice of overdue items: claimed by one
 *                                   sender, then done; TTL a month (app/follow-up.ts)
 *
 * An item is created once (conditional put); an update sets only the fields it changes, gsi2 keys
 * included, so a status change moves the item from one list to the other and two updates of
 * different fields do not undo each other. The sort key never starts with `TL#` (the incident's timeline Query) nor is
 * `INC` (the incident itself), and the gsi2 partitions `ACT#open` / `ACT#done` are not the ones
 * the incident store reads (`INC`, `ROLLUP`, `TIMERS`): neither sees action items. Items of one
 * incident are few; they are sorted by creation time in memory.
 */

type Item = Record<string, unknown>;

const incPk = (incidentId: string) => `INC#${incidentId}`;
const actSk = (id: string) => `ACT#${id}`;
const listPk = (status: ActionItemRecord['status']) => `ACT#${status}`;
/** The follow-up notices' claims, one per owner's contact and day (app/follow-up.ts). */
const FOLLOW_UP_PK = 'ACTREM';

export interface DynamoDbActionItemStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBDocumentClient;
}

export class DynamoDbActionItemStore implements ActionItemStore {
  readonly #table: string;
  readonly #db: DynamoDBDocumentClient;

  constructor(options: DynamoDbActionItemStoreOptions) {
    this.#table = options.tableName;
    this.#db = options.client ?? defaultDocumentClient;
  }

  async updateActionItem(
    incidentId: string,
    id: string,
    change: ActionItemChange,
    by: { readonly who: string; readonly at: string },
  ): Promise<ActionItemRecord | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':who': by.who, ':at': by.at };
    const sets = ['updatedAt = :at', 'updatedBy = :who'];
    const removes: string[] = [];
    /** Each given field, and the condition that at least one of them differs (else: a retry). */
    const differs: string[] = [];
    const set = (field: keyof ActionItemChange, value: string) => {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
      differs.push(`#${field} <> :${field}`);
    };
    if (change.owner !== undefined) set('owner', change.owner);
    // The list keys move with the fields they are made of.
    if (change.deadline !== undefined) {
      set('deadline', change.deadline);
      sets.push('gsi2sk = :gsi2sk');
      values[':gsi2sk'] = `${change.deadline}#${incidentId}#${id}`;
    }
    if (change.status !== undefined) {
      set('status', change.status);
      sets.push('gsi2pk = :gsi2pk');
      values[':gsi2pk'] = listPk(change.status);
      if (change.status === 'done')
        sets.push('doneAt = if_not_exists(doneAt, :at)', 'doneBy = if_not_exists(doneBy, :who)');
      else removes.push('doneAt', 'doneBy');
    }
    if (differs.length === 0) return this.getActionItem(incidentId, id);
    try {
      const result = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: incPk(incidentId), sk: actSk(id) },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: `attribute_exists(pk) AND (${differs.join(' OR ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes === undefined ? undefined : toActionItem(result.Attributes);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // No such item, or already so: as it is.
      return this.getActionItem(incidentId, id);
    }
  }

  async createActionItem(item: ActionItemRecord): Promise<{ item: ActionItemRecord; created: boolean }> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: tableItem(item),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { item, created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.getActionItem(item.incidentId, item.id);
      if (stored === undefined) throw new RetryableError(`action item ${item.id} unreadable; retry`);
      return { item: stored, created: false };
    }
  }

  async getActionItem(incidentId: string, id: string): Promise<ActionItemRecord | undefined> {
    const result = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: incPk(incidentId), sk: actSk(id) },
        ConsistentRead: true,
      }),
    );
    return result.Item === undefined ? undefined : toActionItem(result.Item);
  }

  async actionItems(incidentId: string): Promise<ActionItemRecord[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :act)',
      ExpressionAttributeValues: { ':pk': incPk(incidentId), ':act': 'ACT#' },
      ConsistentRead: true,
    });
    return items
      .map(toActionItem)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async listActionItems(filter: { status?: 'open' | 'done' }): Promise<ActionItemRecord[]> {
    const statuses = filter.status === undefined ? (['open', 'done'] as const) : [filter.status];
    const items = (
      await Promise.all(
        statuses.map((status) =>
          this.#queryAll({
            IndexName: 'gsi2',
            KeyConditionExpression: 'gsi2pk = :pk',
            ExpressionAttributeValues: { ':pk': listPk(status) },
          }),
        ),
      )
    ).flat();
    // Each partition comes sorted; across both, merge by the same key.
    return items.sort((a, b) => String(a.gsi2sk).localeCompare(String(b.gsi2sk))).map(toActionItem);
  }

  async claimFollowUp(key: string, at: Date, staleAfterMs: number): Promise<'claimed' | 'held' | 'sent'> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: FOLLOW_UP_PK, sk: key },
          UpdateExpression: 'SET claimedAt = :at, done = :false, expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(pk) OR (done = :false AND claimedAt < :stale)',
          ExpressionAttributeValues: {
            ':false': false,
            ':at': at.toISOString(),
            ':stale': new Date(at.getTime() - staleAfterMs).toISOString(),
            // Kept a month: long past any retry of its night.
            ':expires': Math.ceil(at.getTime() / 1000) + 31 * 86_400,
          },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.#db.send(
        new GetCommand({ TableName: this.#table, Key: { pk: FOLLOW_UP_PK, sk: key }, ConsistentRead: true }),
      );
      return Item?.done === true ? 'sent' : 'held';
    }
  }

  async completeFollowUp(key: string): Promise<void> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: FOLLOW_UP_PK, sk: key },
        UpdateExpression: 'SET done = :true',
        ExpressionAttributeValues: { ':true': true },
      }),
    );
  }

  async markReminded(incidentId: string, id: string, day: string): Promise<void> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: incPk(incidentId), sk: actSk(id) },
          UpdateExpression: 'SET remindedOn = :day',
          // Never moved back (a late retry of an earlier night); nor onto an item that is gone.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(remindedOn) OR remindedOn < :day)',
          ExpressionAttributeValues: { ':day': day },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Every page of a Query: a page ends at 1 MB (or at `Limit`), the result does not. */
  async #queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.#db.send(
        new QueryCommand({ TableName: this.#table, ...input, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }
}

/** The table item of `item`: its keys, and its own fields only. */
function tableItem(item: ActionItemRecord): Item {
  return {
    ...fields(item),
    pk: incPk(item.incidentId),
    sk: actSk(item.id),
    gsi2pk: listPk(item.status),
    gsi2sk: `${item.deadline}#${item.incidentId}#${item.id}`,
  };
}

/** The record's own fields, nothing else (no stray attributes into the table). */
function fields(item: ActionItemRecord): ActionItemRecord {
  return {
    id: item.id,
    incidentId: item.incidentId,
    action: item.action,
    owner: item.owner,
    deadline: item.deadline,
    category: item.category,
    status: item.status,
    createdAt: item.createdAt,
    createdBy: item.createdBy,
    ...(item.doneAt === undefined ? {} : { doneAt: item.doneAt }),
    ...(item.doneBy === undefined ? {} : { doneBy: item.doneBy }),
    ...(item.updatedAt === undefined ? {} : { updatedAt: item.updatedAt }),
    ...(item.updatedBy === undefined ? {} : { updatedBy: item.updatedBy }),
    ...(item.remindedOn === undefined ? {} : { remindedOn: item.remindedOn }),
  };
}

function toActionItem(item: Item): ActionItemRecord {
  return {
    id: String(item.id),
    incidentId: String(item.incidentId),
    action: String(item.action),
    owner: String(item.owner),
    deadline: String(item.deadline),
    category: item.category as ActionCategory,
    status: item.status === 'done' ? 'done' : 'open',
    createdAt: String(item.createdAt),
    createdBy: String(item.createdBy),
    ...(typeof item.doneAt === 'string' ? { doneAt: item.doneAt } : {}),
    ...(typeof item.doneBy === 'string' ? { doneBy: item.doneBy } : {}),
    ...(typeof item.updatedAt === 'string' ? { updatedAt: item.updatedAt } : {}),
    ...(typeof item.updatedBy === 'string' ? { updatedBy: item.updatedBy } : {}),
    ...(typeof item.remindedOn === 'string' ? { remindedOn: item.remindedOn } : {}),
  };
}
