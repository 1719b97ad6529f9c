import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ExportSink } from '#adapters/aws/s3-export-sink';
import { CSV_CONTENT_TYPE, exportFiles, JSONL_CONTENT_TYPE } from '#core/exports';

const s3 = mockClient(S3Client);

beforeEach(() => {
  s3.reset();
  s3.on(PutObjectCommand).resolves({ ETag: '"etag"' });
});

const sink = () => new S3ExportSink({ bucket: 'klaxon-exports-123456789012', client: new S3Client({}) });
const puts = () => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

describe('S3 export sink', () => {
  it('puts the body under the key with its content type, asking for SSE-S3', async () => {
    await sink().put('exports/incidents/dt=2026-11-26/incidents.jsonl', '{"id":"a"}\n', JSONL_CONTENT_TYPE);
    expect(puts()).toEqual([
      {
        Bucket: 'klaxon-exports-123456789012',
        Key: 'exports/incidents/dt=2026-11-26/incidents.jsonl',
        Body: '{"id":"a"}\n',
        ContentType: 'application/x-ndjson; charset=utf-8',
        ServerSideEncryption: 'AES256',
      },
    ]);
  });

  it("writes a day's four files, one PutObject each", async () => {
    const target = sink();
    for (const file of exportFiles('exports/', '2026-11-26', { incidents: [], rollups: [] })) {
      await target.put(file.key, file.body, file.contentType);
    }
    expect(puts().map((p) => [p.Key, p.ContentType])).toEqual([
      ['exports/incidents/dt=2026-11-26/incidents.jsonl', JSONL_CONTENT_TYPE],
      ['exports/incidents_csv/dt=2026-11-26/incidents.csv', CSV_CONTENT_TYPE],
      ['exports/rollups/dt=2026-11-26/rollups.jsonl', JSONL_CONTENT_TYPE],
      ['exports/rollups_csv/dt=2026-11-26/rollups.csv', CSV_CONTENT_TYPE],
    ]);
    expect(puts()[1]?.Body).toMatch(/^id,service,severity,.*,excluded,impact_severity\r\n$/);
  });

  it('throws when S3 fails, so the export is retried', async () => {
    const error = new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
      message: 'Please reduce your request rate.',
    });
    s3.on(PutObjectCommand).rejects(error);
    await expect(sink().put('k', 'b', 'text/csv')).rejects.toBe(error);
  });
});
