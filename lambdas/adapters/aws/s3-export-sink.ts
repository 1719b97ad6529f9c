import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ExportSink } from '#app/ports';

/** Created once per execution environment, reused by every invocation. */
const defaultClient = new S3Client({});

/**
 * Writes analyst exports to the exports bucket: one PutObject per file, which replaces the object
 * as a whole (readers see the old or the new version, never a mix). SSE-S3 (`AES256`) is asked for
 * explicitly, matching the bucket's default encryption and any policy that requires the header.
 * Retry contract: a put overwrites by key, so repeating it is harmless; the SDK retries, and a
 * thrown error means "retry the export".
 */
export class S3ExportSink implements ExportSink {
  readonly #bucket: string;
  readonly #client: S3Client;

  constructor(options: { bucket: string; client?: S3Client }) {
    this.#bucket = options.bucket;
    this.#client = options.client ?? defaultClient;
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ServerSideEncryption: 'AES256',
      }),
    );
  }
}
