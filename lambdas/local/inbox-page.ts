import { addressOf, deliveredAs, type InboxEntry } from '#adapters/local/pager';
import { escapeHtml } from '#http/ack-pages';

/**
 * The local runtime's inbox: every page the local pager "sent", newest first, as the responder
 * would have received it, with the links clickable. A stand-in for the email and SMS apps.
 * It reloads itself every 5 seconds, except while an "As delivered" section is open: a reload
 * would close it under the reader (without scripts, a plain meta refresh does).
 */
export function inboxPage(
  entries: readonly InboxEntry[],
  pendingTimers: readonly { name: string; dueAt: string }[],
): string {
  const rows = [...entries]
    .reverse()
    .map(({ at, page, rendered }) => {
      const to = addressOf(page.contact);
      const all = page.digest?.acknowledgeAll;
      const links = [
        all ? `<a href="${escapeHtml(all.link)}">Acknowledge all ${all.count}</a>` : '',
        page.links.acknowledge ? `<a href="${escapeHtml(page.links.acknowledge)}">Acknowledge</a>` : '',
        page.links.resolve ? `<a href="${escapeHtml(page.links.resolve)}">Resolve</a>` : '',
        `<a href="${escapeHtml(page.links.incident)}">Incident</a>`,
      ]
        .filter(Boolean)
        .join(' · ');
      const body = deliveredAs(page.contact.type, rendered);
      return `<article class="${escapeHtml(page.kind)}">
  <header><time>${escapeHtml(at)}</time> <b>${escapeHtml(page.kind)}</b> → ${escapeHtml(page.responder.name)} (${escapeHtml(page.contact.type)} ${escapeHtml(to)})</header>
  <h2>${escapeHtml(rendered.subject)}</h2>
  <p>${links}</p>
  <details><summary>As delivered</summary><pre>${escapeHtml(body)}</pre></details>
</article>`;
    })
    .join('\n');
  const timers = pendingTimers
    .map((t) => `<li><code>${escapeHtml(t.name)}</code> at ${escapeHtml(t.dueAt)}</li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><noscript><meta http-equiv="refresh" content="5"></noscript>
<title>Klaxon local inbox</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
article{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
article.page{border-left:4px solid #c62828} article.reminder{border-left:4px solid #f9a825} article.notice{border-left:4px solid #2e7d32}
h2{font-size:1.05rem;margin:.3rem 0} header{color:#555;font-size:.85rem} pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}
</style></head><body>
<h1>Klaxon local inbox</h1>
<p>${entries.length} message(s). This page refreshes every 5 seconds, except while a message is open.</p>
${rows || '<p>No pages yet. Send an alert (see the console for a curl command).</p>'}
<h2>Pending timers</h2><ul>${timers || '<li>none</li>'}</ul>
<script>setInterval(() => { if (!document.querySelector('details[open]')) location.reload(); }, 5000);</script>
</body></html>`;
}
