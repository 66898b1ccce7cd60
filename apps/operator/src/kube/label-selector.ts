/** The parts of a LabelSelector (metav1) a selector string is made of. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

/**
 * A LabelSelector as the selector string a scale subresource publishes (status.selector):
 * requirements sorted by key, the values of a set sorted, as Kubernetes writes it.
 */
export function selectorString(selector: LabelSelectorSpec | undefined): string {
  const parts: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    parts.push({ key, text: `${key}=${value}` });
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    const set = `(${[...values].sort().join(',')})`;
    switch (operator) {
      case 'In':
        parts.push({ key, text: `${key} in ${set}` });
        break;
      case 'NotIn':
        parts.push({ key, text: `${key} notin ${set}` });
        break;
      case 'Exists':
        parts.push({ key, text: key });
        break;
      case 'DoesNotExist':
        parts.push({ key, text: `!${key}` });
        break;
      default:
        throw new Error(`unknown label selector operator ${operator}`);
    }
  }
  return parts
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((p) => p.text)
    .join(',');
}

/** Splits at the commas between requirements, not those inside a set's parentheses. */
function requirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[-A-Za-z0-9_.]*`;
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(\s*(.*?)\s*\)$`);
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const ORDER = new RegExp(String.raw`^(${KEY})\s*(<|>)\s*(-?\d+)$`);
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

function requirement(text: string): LabelMatcher {
  let m = SET.exec(text);
  if (m) {
    const [, key, op, list] = m;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in'
      ? (labels) => labels?.[key] !== undefined && values.has(labels[key])
      : (labels) => labels?.[key] === undefined || !values.has(labels[key]);
  }
  m = EQUALITY.exec(text);
  if (m) {
    const [, key, op, value] = m;
    return op === '!=' ? (labels) => labels?.[key] !== value : (labels) => labels?.[key] === value;
  }
  m = ORDER.exec(text);
  if (m) {
    const [, key, op, bound] = m;
    return (labels) => {
      const raw = labels?.[key];
      if (raw === undefined || !/^-?\d+$/.test(raw)) return false;
      return op === '<' ? Number(raw) < Number(bound) : Number(raw) > Number(bound);
    };
  }
  m = EXISTS.exec(text);
  if (m) {
    const [, not, key] = m;
    return not ? (labels) => labels?.[key] === undefined : (labels) => labels?.[key] !== undefined;
  }
  throw new Error(`"${text}" is not a label selector requirement`);
}

/**
 * Matches labels against a selector string in Kubernetes' syntax (`app=web,tier in (a,b),!canary`),
 * so pods listed once per namespace can be told apart by workload. The empty selector
 * matches everything, as it does in the API.
 */
export function labelMatcher(selector: string): LabelMatcher {
  if (selector.trim() === '') return () => true;
  const all = requirements(selector).map(requirement);
  return (labels) => all.every((matches) => matches(labels));
}
