/**
 * Reads a Prometheus text exposition with a real parser (parse-prometheus-text-format,
 * which ships no types: the shapes it returns are declared here) and looks samples up
 * by name and labels, so metrics tests check what Prometheus would scrape.
 */
// @ts-expect-error: the package ships no type declarations
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface Sample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface Family {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: Sample[];
}

/** Every family in the text by name (a name met again, e.g. an untyped histogram's _sum, adds its samples). */
export function parseMetrics(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const family of parsePrometheusTextFormat(text) as Family[]) {
    const seen = families.get(family.name);
    if (seen) seen.metrics.push(...family.metrics);
    else families.set(family.name, family);
  }
  return families;
}

/** The one sample of `name` whose labels include `labels`; throws when none or several. */
export function sample(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): Sample {
  const family = families.get(name);
  if (!family) throw new Error(`no metric ${name}`);
  const found = family.metrics.filter((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} samples of ${name} with ${JSON.stringify(labels)}`);
  }
  return found[0] as Sample;
}

export const sampleValue = (families: Map<string, Family>, name: string, labels = {}) =>
  Number(sample(families, name, labels).value);

/**
 * A labeled histogram's samples, per label set: {buckets: {le: count}, count, sum}. The
 * parser folds a histogram family into one sample and drops its labels (its own
 * limitation), so the family is re-read with its TYPE line as untyped: then its _bucket,
 * _sum and _count lines are ordinary labeled samples the parser still checks.
 */
export function histogram(
  text: string,
  name: string,
  labels: Record<string, string>,
): { buckets: Record<string, number>; count: number; sum: number } {
  const untyped = parseMetrics(text.replace(`# TYPE ${name} histogram`, `# TYPE ${name} untyped`));
  const matching = (suffix: string) =>
    (untyped.get(`${name}${suffix}`)?.metrics ?? []).filter((m) =>
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
    );
  const buckets: Record<string, number> = {};
  for (const m of matching("_bucket")) buckets[m.labels?.le ?? "?"] = Number(m.value);
  const one = (suffix: string) => {
    const found = matching(suffix);
    if (found.length !== 1) throw new Error(`${found.length} ${name}${suffix} samples`);
    return Number(found[0]?.value);
  };
  return { buckets, count: one("_count"), sum: one("_sum") };
}
