import { describe, expect, it } from 'vitest'
import { END_MARKER, replaceSection, START_MARKER } from '../../src/sim/bench'

describe('BENCHMARKS.md section', () => {
  const section = `${START_MARKER}\nnew numbers\n${END_MARKER}`

  it('replaces only the text between the markers', () => {
    const document = `# Title\n\nintro\n\n${START_MARKER}\nold numbers\n${END_MARKER}\n\nnotes after\n`
    expect(replaceSection(document, section)).toBe(`# Title\n\nintro\n\n${section}\n\nnotes after\n`)
  })

  it('appends the section when the markers are missing, keeping the text', () => {
    const result = replaceSection('# Mine\n\nhand-written\n', section)
    expect(result.startsWith('# Mine\n\nhand-written\n')).toBe(true)
    expect(result).toContain(section)
  })

  it('creates a document from nothing', () => {
    expect(replaceSection('', section)).toContain(section)
  })
})
