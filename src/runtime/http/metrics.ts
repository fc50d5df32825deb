/**
 * The real cluster's metrics in Prometheus's text exposition format (version 0.0.4): counters and
 * histograms with fixed buckets, rendered on `GET /metrics`.
 */

/** Seconds: 100 µs to 10 s, about three buckets per decade. */
export const LATENCY_BUCKETS = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]

export class Histogram {
  private readonly counts: number[]
  private sum = 0
  private count = 0

  constructor(private readonly buckets: readonly number[] = LATENCY_BUCKETS) {
    this.counts = buckets.map(() => 0)
  }

  observe(value: number): void {
    this.sum += value
    this.count++
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]!) {
        this.counts[i]!++
        break
      }
    }
  }

  /** The exposition lines of this histogram under `name`, with `labels` (`kind="get"`) if any. */
  render(name: string, labels = ''): string[] {
    const lines: string[] = []
    const sep = labels === '' ? '' : ','
    let cumulative = 0
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += this.counts[i]!
      lines.push(`${name}_bucket{${labels}${sep}le="${this.buckets[i]}"} ${cumulative}`)
    }
    lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${this.count}`)
    const suffix = labels === '' ? '' : `{${labels}}`
    lines.push(`${name}_sum${suffix} ${this.sum}`, `${name}_count${suffix} ${this.count}`)
    return lines
  }
}

/** A counter with labels, by their rendered text (`kind="put",outcome="ok"`). */
export class LabelledCounter {
  private readonly values = new Map<string, number>()

  inc(labels: string, by = 1): void {
    this.values.set(labels, (this.values.get(labels) ?? 0) + by)
  }

  render(name: string): string[] {
    return [...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([labels, n]) => `${name}{${labels}} ${n}`)
  }
}

export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly lines: readonly string[]
}

export const renderFamilies = (families: readonly MetricFamily[]): string =>
  families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join('\n')).join('\n') + '\n'

/** Escapes a label value (backslash, double quote, newline). */
export const labelValue = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
