/**
 * Progress of a long job, on a terminal or not. On a terminal, one status line on stderr rewritten
 * in place (at most four times a second); piped or redirected (CI, `| tee`), a plain line every
 * `everyMs` instead, so that a log shows the job moving. Colour comes from picocolors, which
 * leaves it out when NO_COLOR is set or stdout is not a terminal.
 */
import pc from 'picocolors'

export { pc as colour }

export interface ProgressLine {
  /** The job's state now; shown at once on a terminal, every `everyMs` otherwise. */
  update(text: string): void
  /** Writes a line of its own (a result), keeping the status line below it on a terminal. */
  print(text: string): void
  /** Clears the status line. */
  done(): void
}

export const progressLine = (stream: NodeJS.WriteStream = process.stderr, everyMs = 10_000): ProgressLine => {
  const terminal = stream.isTTY === true
  let shown = ''
  // Off a terminal the first line comes after `everyMs`: a short job prints none.
  let lastShownAt = terminal ? Number.NEGATIVE_INFINITY : Date.now()
  const clear = (): void => {
    if (terminal && shown !== '') stream.write('\r\x1b[K')
  }
  return {
    update(text) {
      const now = Date.now()
      if (now - lastShownAt < (terminal ? 250 : everyMs)) return
      lastShownAt = now
      if (terminal) {
        const width = (stream.columns ?? 120) - 1
        shown = text.length > width ? `${text.slice(0, width - 1)}…` : text
        stream.write(`\r\x1b[K${shown}`)
      } else {
        stream.write(`${text}\n`)
      }
    },
    print(text) {
      clear()
      process.stdout.write(`${text}\n`)
      if (terminal && shown !== '') stream.write(shown)
    },
    done() {
      clear()
      shown = ''
    },
  }
}

/** A duration for a person: `45 s`, `3 min 20 s`, `1 h 05 min`. */
export const formatDuration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
}
