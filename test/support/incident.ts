import type { Incident } from '#core/incident';

/** The incident-command fields of an incident nobody has commanded yet: for Incident fixtures. */
export const UNCOMMANDED: Pick<
  Incident,
  'reopens' | 'severityChanges' | 'roles' | 'smes' | 'rolesAt' | 'checklist' | 'links' | 'reassessSeq'
> = {
  reopens: 0,
  severityChanges: 0,
  roles: {},
  smes: [],
  rolesAt: {},
  checklist: {},
  links: [],
  reassessSeq: 0,
};
