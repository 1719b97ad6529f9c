import { describe, expect, it } from 'vitest';
import { checkBlameless, sentences } from '#core/blame';

const names = ['Alice', 'Bob Smith'];

describe('blameless-language check', () => {
  it.each([
    ['Alice deployed bad code to production.', 'Alice deployed bad code'],
    ["Bob Smith didn't notice the alert.", "Bob Smith didn't notice"],
    ['The incident happened because of Alice.', 'because of Alice'],
    ['@carol forgot to run the migration.', '@carol forgot to run'],
    ['It was human error.', 'human error'],
    ["This was Alice's mistake.", "Alice's mistake"],
    ['Bob Smith should have checked the dashboard.', 'Bob Smith should have'],
    ['Someone ignored the disk warning.', 'Someone ignored'],
    ['He pushed untested changes on Friday.', 'He pushed untested changes'],
  ])('flags “%s”', (text, phrase) => {
    const [finding] = checkBlameless(text, names);
    expect(finding?.phrase).toBe(phrase);
    expect(finding?.suggestion.length).toBeGreaterThan(20);
  });

  it.each([
    'The deployment introduced a regression in the checkout service.',
    'The monitoring did not alert on connection pool exhaustion.',
    'The process allowed an untested change to reach production.',
    'Alice rolled back the deployment at 14:40.',
    'Bob Smith noticed the error rate and paged the team.',
    'We did not have a runbook for this failure mode.',
  ])('leaves system-focused sentences alone: “%s”', (text) => {
    expect(checkBlameless(text, names)).toEqual([]);
  });

  it('reports each blaming sentence once with its reason', () => {
    const findings = checkBlameless(
      'Error rates rose at 14:20. Alice deployed bad code. Bob Smith didn’t notice and Alice broke the cache.',
      names,
    );
    expect(findings.map((f) => [f.sentence, f.reason])).toEqual([
      ['Alice deployed bad code.', 'names a person as the cause of a bad change'],
      ['Bob Smith didn’t notice and Alice broke the cache.', 'frames a gap as a person’s omission'],
    ]);
  });

  it('reads Markdown: list items and table cells are sentences', () => {
    expect(sentences('- Alice forgot the flag\n| 14:00 | Bob deployed |\n## Heading')).toEqual([
      'Alice forgot the flag',
      '14:00 | Bob deployed |',
      'Heading',
    ]);
    expect(checkBlameless('## What went poorly\n- Alice forgot to enable the flag', names)).toHaveLength(1);
  });
});
