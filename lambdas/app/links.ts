import { type AckAction, signAckToken, signDigestToken, signViewToken } from '#core/ack-token';

/** How long an acknowledge link stays valid. Reminders bring fresh links for longer incidents. */
export const LINK_TTL_MS = 48 * 60 * 60_000;

/**
 * Signed acknowledge/resolve links. The secret comes from Secrets Manager in AWS and a generated
 * file locally; it is fetched once and kept.
 */
export class AckLinks {
  readonly #secret: () => Promise<string>;
  #cached: Promise<string> | undefined;
  readonly #publicUrl: () => string;

  /** `publicUrl` may be a function: the local runtime learns its URL only once it listens. */
  constructor(options: { publicUrl: string | (() => string); secret: () => Promise<string> }) {
    const url = options.publicUrl;
    this.#publicUrl = typeof url === 'string' ? () => url : url;
    this.#secret = options.secret;
  }

  get publicUrl(): string {
    return this.#publicUrl().replace(/\/+$/, '');
  }

  secret(): Promise<string> {
    this.#cached ??= this.#secret().catch((error: unknown) => {
      this.#cached = undefined;
      throw error;
    });
    return this.#cached;
  }

  async link(incidentId: string, action: AckAction, responderId: string, now: Date): Promise<string> {
    const token = signAckToken(
      { incidentId, action, responderId, expiresAt: new Date(now.getTime() + LINK_TTL_MS) },
      await this.secret(),
    );
    return `${this.publicUrl}/a/${token}`;
  }

  /** A digest's "acknowledge all" link: every incident it covered, as `responderId`. */
  async digestLink(digestId: string, responderId: string, now: Date): Promise<string> {
    const token = signDigestToken(
      { digestId, responderId, expiresAt: new Date(now.getTime() + LINK_TTL_MS) },
      await this.secret(),
    );
    return `${this.publicUrl}/a/${token}`;
  }

  /**
   * A page's incident link: the incident's read-only page for `responderId`, no login needed (the
   * API's own page needs credentials a paged person does not have at hand).
   */
  async viewLink(incidentId: string, responderId: string, now: Date): Promise<string> {
    const token = signViewToken(
      { incidentId, responderId, expiresAt: new Date(now.getTime() + LINK_TTL_MS) },
      await this.secret(),
    );
    return `${this.publicUrl}/a/${token}`;
  }

  /** The incident in the management API (credentials needed): for lifecycle events' readers. */
  incidentUrl(incidentId: string): string {
    return `${this.publicUrl}/api/incidents/${incidentId}`;
  }
}
