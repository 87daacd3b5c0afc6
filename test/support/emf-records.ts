/** One metric value found in an EMF log line, with the dimensions that line declared. */
export interface EmfRecord {
  readonly namespace: string;
  readonly metric: string;
  readonly unit: string;
  readonly value: unknown;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * Every CloudWatch Embedded Metric Format record in captured output: the JSON lines with an
 * `_aws.CloudWatchMetrics` block, read the way CloudWatch Logs reads them.
 */
export function emfRecords(output: string): EmfRecord[] {
  const records: EmfRecord[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"_aws"')) continue;
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const aws = json._aws as {
      CloudWatchMetrics?: Array<{
        Namespace: string;
        Dimensions: string[][];
        Metrics: Array<{ Name: string; Unit: string }>;
      }>;
    };
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      const names = directive.Dimensions.flat();
      const dimensions = Object.fromEntries(names.map((name) => [name, String(json[name])]));
      for (const metric of directive.Metrics) {
        const value = json[metric.Name];
        for (const one of Array.isArray(value) ? value : [value]) {
          records.push({
            namespace: directive.Namespace,
            metric: metric.Name,
            unit: metric.Unit,
            value: one,
            dimensions,
          });
        }
      }
    }
  }
  return records;
}
