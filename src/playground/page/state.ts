/**
 * The page's state: the cluster it shows (live or a recording), whether it runs and how fast, what
 * is selected, and whether the panels need drawing again. Every module of the page reads and sets
 * it here.
 */
import type { NodeId } from '../../domain/wire'
import { PlaygroundCluster } from '../cluster'
import type { ClusterView } from '../cluster-view'

export type Selection = { readonly kind: 'replica'; readonly id: NodeId } | { readonly kind: 'flight'; readonly id: number } | { readonly kind: 'step'; readonly id: number }

export interface PageState {
  cluster: ClusterView
  running: boolean
  /** Virtual milliseconds per real one. */
  speed: number
  selection: Selection | undefined
  /** Something changed that the panels show: redraw them on the next frame. */
  dirty: boolean
}

export const page: PageState = { cluster: new PlaygroundCluster(1, 5), running: false, speed: 0.25, selection: undefined, dirty: true }

export const SPEEDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 20]

/** The replicas ticked to be cut off from the rest. */
export const checkedForSplit = new Set<NodeId>()
