import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { systemClock } from '#app/ports';
import { processAlert } from '#app/process-alert';
import { benchAlert, benchDeps, mockedAws, pool, startEngine } from './harness.ts';

const N = Number(process.env.N ?? 4000);
const engine = await startEngine();
const { store, tableName } = await engine.table();
const aws = mockedAws();
const deps = benchDeps(store, aws, systemClock);
const receivedAt = new Date().toISOString();
async function floor() {
  const now = new Date().toISOString();
  const t0 = performance.now();
  await pool(Array.from({ length: N }), 64, async () => {
    await engine.db.send(new UpdateCommand({ TableName: tableName, Key: { pk: 'FLOOR#one', sk: 'INC' },
      UpdateExpression: 'SET lastAlertAt = :now ADD alertCount :one',
      ConditionExpression: 'attribute_not_exists(pk) OR #status <> :resolved',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':now': now, ':one': 1, ':resolved': 'resolved' }, ReturnValues: 'UPDATED_NEW' }));
  });
  return N / ((performance.now() - t0) / 1000);
}
async function klaxon(key: string) {
  const alerts = Array.from({ length: N }, () => benchAlert({ dedupKey: key, receivedAt }));
  const t0 = performance.now();
  await pool(alerts, 64, async (a) => { await processAlert(a, deps); });
  return N / ((performance.now() - t0) / 1000);
}
for (let r = 0; r < 3; r++) {
  const f = await floor();
  const k = await klaxon(`k${r}`);
  console.log(`floor ${f.toFixed(0)}/s klaxon ${k.toFixed(0)}/s ratio ${(k / f).toFixed(2)}`);
}
await engine.close();
