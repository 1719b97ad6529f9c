/**
 * The blameless-language check: flags sentences that blame a person ("Alice deployed bad code",
 * "Bob didn't notice") and suggests a system-focused rewording. Advisory: it is shown with a
 * postmortem draft, it never blocks one. A heuristic, tuned to miss little and explain itself.
 */

export interface BlameFinding {
  /** The sentence, as written. */
  readonly sentence: string;
  /** The words that read as blame. */
  readonly phrase: string;
  readonly reason: string;
  /** A system-focused way to say it. */
  readonly suggestion: string;
}

interface Rule {
  readonly pattern: RegExp;
  readonly reason: string;
  readonly suggestion: string;
}

/** Who: a known name, an @handle, or a pronoun standing for a person. `{who}` in patterns. */
const PRONOUNS = [
  'he',
  'she',
  'someone',
  'somebody',
  'the engineer',
  'the developer',
  'the on-call',
  'the operator',
];

const RULES: readonly Rule[] = [
  {
    pattern:
      /{who}\s+(?:deployed|pushed|shipped|merged|released)\s+(?:a\s+)?(?:bad|broken|buggy|faulty|untested)\s+\w+/i,
    reason: 'names a person as the cause of a bad change',
    suggestion:
      'A change with a defect reached production. Ask what in the review, test and deployment process let it through.',
  },
  {
    pattern: /{who}\s+(?:didn['’]t|did not|failed to|forgot to|neglected to|never)\s+\w+/i,
    reason: 'frames a gap as a person’s omission',
    suggestion:
      'Describe the missing safeguard: "The monitoring did not surface …", "The runbook did not include …".',
  },
  {
    pattern: /{who}\s+(?:broke|caused|missed|ignored|overlooked|messed up|screwed up)\b/i,
    reason: 'names a person as the cause',
    suggestion: 'Name the condition that allowed it: "The process allowed …", "Nothing alerted on …".',
  },
  {
    pattern: /{who}\s+should have\b/i,
    reason: 'hindsight about a person (counterfactual)',
    suggestion:
      'Say what the system could do so that nobody needs to "should have": a check, an alert, a guard rail.',
  },
  {
    pattern: /\b(?:{whose}\s+(?:mistake|error|fault|carelessness|negligence))\b/i,
    reason: 'attributes the incident to a person’s mistake',
    suggestion: 'Describe the failure mode and what made the mistake easy to make and hard to catch.',
  },
  {
    pattern:
      /\b(?:human error|operator error|user error|careless(?:ly|ness)?|negligen(?:t|ce)|incompeten(?:t|ce)|lazy|sloppy)\b/i,
    reason: 'judges people instead of describing the system',
    suggestion:
      '"Human error" is where an investigation starts: ask what in the tooling or process invited the error.',
  },
  {
    pattern: /\bbecause (?:of )?{who}\b/i,
    reason: 'gives a person as the reason',
    suggestion: 'Give the mechanism as the reason: "because the deploy had no canary stage", not who ran it.',
  },
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Splits prose into sentences (Markdown table rows and list items count as sentences too). */
export function sentences(text: string): string[] {
  return text
    .split(/\n+|(?<=[.!?])\s+(?=[A-Z@"'(])/)
    .map((s) => s.replace(/^(?:[\s>*\-|#]+|\d+[.)]\s+)+/, '').trim())
    .filter((s) => s.length > 0);
}

/**
 * Finds blaming sentences. `names` are the people who might be named (the config's responders,
 * the incident's participants); @handles and person pronouns are always recognized.
 */
export function checkBlameless(text: string, names: readonly string[] = []): BlameFinding[] {
  const people = [
    ...names.filter((n) => n.trim().length > 0).map(escapeRegExp),
    '@[\\w.-]+',
    ...PRONOUNS.map(escapeRegExp),
  ];
  const who = `(?:${people.join('|')})`;
  const whose = `(?:${people.map((p) => `${p}['’]s`).join('|')}|his|her)`;
  const rules = RULES.map((r) => ({
    ...r,
    regex: new RegExp(
      r.pattern.source.replaceAll('{who}', `(?<![\\w@])${who}`).replaceAll('{whose}', whose),
      r.pattern.flags,
    ),
  }));
  const findings: BlameFinding[] = [];
  for (const sentence of sentences(text)) {
    for (const rule of rules) {
      const match = rule.regex.exec(sentence);
      if (match) {
        findings.push({ sentence, phrase: match[0], reason: rule.reason, suggestion: rule.suggestion });
        break;
      }
    }
  }
  return findings;
}
