import { appendFile, readFile } from 'node:fs/promises';
import type { ContactDirectory, Pager } from '#app/ports';
import type { ContactDirectoryReport, ContactEndpoint } from '#core/contacts';
import type { Page, RenderedPage } from '#core/page';
import { renderPage } from '#core/page-render';

export interface InboxEntry {
  readonly at: string;
  readonly page: Page;
  readonly rendered: RenderedPage;
}

/**
 * The local stand-in for SNS: each page is rendered exactly as it would be for its protocol,
 * printed to the console and kept in an inbox (and, with `file`, appended to a JSON Lines file)
 * that the local runtime serves as a page; `restore` reads the file's last pages back after a restart.
 */
export class LocalPager implements Pager {
  readonly inbox: InboxEntry[] = [];
  readonly #options: { timeZone: string; file?: string; log?: (line: string) => void; clock?: () => Date };

  constructor(options: {
    timeZone: string;
    file?: string;
    log?: (line: string) => void;
    clock?: () => Date;
  }) {
    this.#options = options;
  }

  /**
   * Loads the last `count` pages of the file into the inbox (oldest first), so that a restarted
   * runtime's inbox still shows the pages whose links work. A line a crash tore, or one that is no
   * inbox entry, is skipped; a torn last line is ended so that the next page starts a line of its own.
   */
  async restore(count = 200): Promise<void> {
    const file = this.#options.file;
    if (!file) return;
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    const restored: InboxEntry[] = [];
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0 && restored.length < count; i--) {
      const entry = parseEntry(lines[i] ?? '');
      if (entry) restored.unshift(entry);
    }
    this.inbox.unshift(...restored);
    if (text !== '' && !text.endsWith('\n')) await appendFile(file, '\n');
  }

  async send(page: Page): Promise<void> {
    const rendered = renderPage(page, { timeZone: this.#options.timeZone });
    const entry: InboxEntry = { at: (this.#options.clock?.() ?? new Date()).toISOString(), page, rendered };
    this.inbox.push(entry);
    this.#options.log?.(
      `📟 ${page.kind} → ${page.responder.name} (${page.contact.type} ${addressOf(page.contact)}): ${rendered.subject}${
        page.digest?.acknowledgeAll ? `\n     acknowledge all: ${page.digest.acknowledgeAll.link}` : ''
      }${page.links.acknowledge ? `\n     acknowledge: ${page.links.acknowledge}` : ''}`,
    );
    if (this.#options.file) await appendFile(this.#options.file, `${JSON.stringify(entry)}\n`);
  }
}

/**
 * One line of the inbox file, if it is a whole entry: every part the inbox page reads is there and
 * of its type (a hand-edited or foreign line would otherwise fail the page on every request).
 */
function parseEntry(line: string): InboxEntry | undefined {
  if (line.trim() === '') return undefined;
  try {
    const entry = JSON.parse(line) as Partial<InboxEntry> | null;
    const page = entry?.page;
    const rendered = entry?.rendered;
    if (typeof entry?.at !== 'string' || page === undefined || rendered === undefined) return undefined;
    const type: unknown = page.contact?.type;
    const known = type === 'email' || type === 'sms' || type === 'webhook';
    const to: unknown = known ? addressOf(page.contact) : undefined;
    const body: unknown = known ? deliveredAs(page.contact.type, rendered) : undefined;
    const optional = (value: unknown) => value === undefined || typeof value === 'string';
    const all = page.digest?.acknowledgeAll;
    return typeof page.kind === 'string' &&
      typeof page.responder?.name === 'string' &&
      typeof to === 'string' &&
      typeof body === 'string' &&
      typeof rendered.subject === 'string' &&
      typeof page.links?.incident === 'string' &&
      optional(page.links.acknowledge) &&
      optional(page.links.resolve) &&
      (all === undefined || (typeof all.link === 'string' && typeof all.count === 'number'))
      ? (entry as InboxEntry)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Where a page went: the contact's address, number or URL. */
export function addressOf(contact: Page['contact']): string {
  return contact.type === 'email' ? contact.address : contact.type === 'sms' ? contact.number : contact.url;
}

/** The message as the contact's protocol delivered it. */
export function deliveredAs(type: Page['contact']['type'], rendered: RenderedPage): string {
  return type === 'sms' ? rendered.sms : type === 'email' ? rendered.email : rendered.json;
}

/**
 * The contact directory of the local runtime: its pager puts every page into the inbox, which
 * reaches every configured contact, so each endpoint is reported subscribed and confirmed, no
 * number opted out, no SMS sandbox. The check finds no problem locally because there is none.
 */
export class LocalContactDirectory implements ContactDirectory {
  async report(endpoints: readonly ContactEndpoint[]): Promise<ContactDirectoryReport> {
    return {
      subscriptions: endpoints.map(({ protocol, endpoint }) => ({
        protocol,
        endpoint,
        pendingConfirmation: false,
      })),
      optedOut: [],
    };
  }
}
