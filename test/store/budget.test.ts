import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDynamo } from '../support/dynamo.ts';

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

describe("a service's error-budget notice for a month", () => {
  it('is claimed once; a claim whose announcement failed is claimed again, keeping when it was first recorded', async () => {
    const store = await dynamo.table();
    expect(await store.budgetExhaustedAt('checkout', '2026-11')).toBeUndefined();
    expect(await store.claimBudgetNotice('checkout', '2026-11', new Date('2026-11-26T10:00:00.000Z'))).toBe(
      true,
    );
    // The announcement failed (never completed): the next run claims it again, but the time the
    // exhaustion was recorded — which resolutions and their retries compare with — does not move.
    expect(await store.claimBudgetNotice('checkout', '2026-11', new Date('2026-11-27T02:00:00.000Z'))).toBe(
      true,
    );
    expect(await store.budgetExhaustedAt('checkout', '2026-11')).toBe('2026-11-26T10:00:00.000Z');
    await store.completeBudgetNotice('checkout', '2026-11');
    expect(await store.claimBudgetNotice('checkout', '2026-11', new Date('2026-11-28T02:00:00.000Z'))).toBe(
      false,
    );
    expect(await store.budgetExhaustedAt('checkout', '2026-11')).toBe('2026-11-26T10:00:00.000Z');
    expect(await store.budgetExhaustedAt('checkout', '2026-12')).toBeUndefined();
  });
});
