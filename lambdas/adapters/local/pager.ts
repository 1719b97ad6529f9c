import { appendFile } from 'node:fs/promises';
import type { Pager } from '#app/ports';
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
 * that the local runtime serves as a page.
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

  async send(page: Page): Promise<void> {
    const rendered = renderPage(page, { timeZone: this.#options.timeZone });
    const entry: InboxEntry = { at: (this.#options.clock?.() ?? new Date()).toISOString(), page, rendered };
    this.inbox.push(entry);
    const to =
      page.contact.type === 'email'
        ? page.contact.address
        : page.contact.type === 'sms'
          ? page.contact.number
          : page.contact.url;
    this.#options.log?.(
      `📟 ${page.kind} → ${page.responder.name} (${page.contact.type} ${to}): ${rendered.subject}${
        page.digest?.acknowledgeAll ? `\n     acknowledge all: ${page.digest.acknowledgeAll.link}` : ''
      }${page.links.acknowledge ? `\n     acknowledge: ${page.links.acknowledge}` : ''}`,
    );
    if (this.#options.file) await appendFile(this.#options.file, `${JSON.stringify(entry)}\n`);
  }
}
