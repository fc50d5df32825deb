/** The linearizability checker lives in src/history (history/linearizability.ts); src/check's modules import it from here. */
export * from '../history/linearizability'
