/** Small DOM helpers of the page: finding an element, making HTML and SVG elements, times as text. */

export const $ = <T extends HTMLElement | SVGElement>(selector: string): T => {
  const element = document.querySelector<T>(selector)
  if (element === null) throw new Error(`the page has no ${selector}`)
  return element
}

export type Attrs = Record<string, string | number | boolean | undefined>

export const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag)
  setAttrs(node, attrs)
  node.append(...children)
  return node
}

const SVG_NS = 'http://www.w3.org/2000/svg'
export const svg = (tag: string, attrs: Attrs = {}, ...children: (Node | string)[]): SVGElement => {
  const node = document.createElementNS(SVG_NS, tag)
  setAttrs(node, attrs)
  node.append(...children)
  return node
}

const setAttrs = (node: Element, attrs: Attrs): void => {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    node.setAttribute(name, value === true ? '' : String(value))
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`
