/**
 * The playground page: draws the cluster (../cluster.ts) and turns what a person does into its
 * actions. Plain DOM and SVG, no framework. The page decides nothing about Raft: every role, term,
 * vote, log mark and message it shows is read from the replicas' states, the flights and the
 * steps' records; the verdict is the project's linearizability checker.
 *
 * The modules: state.ts (what the page shows and how it runs), skeleton.ts (its elements),
 * labels.ts (what it calls things), stage.ts, replica-table.ts, request-list.ts, flight-list.ts,
 * details.ts and header.ts (one a part of the page), render.ts (drawing frame by frame),
 * actions.ts (run, act, load) and controls.ts (buttons, clicks, keys).
 */
import { PlaygroundCluster } from '../cluster'
import { load, openFromHash, setRunning } from './actions'
import './controls'
import { drawLegend } from './header'
import { draw, frame } from './render'

const start = (): void => {
  drawLegend()
  if (!openFromHash(location.hash)) {
    load(new PlaygroundCluster(1, 5))
    setRunning(true)
  }
  draw()
  document.body.dataset['ready'] = 'true'
  requestAnimationFrame(frame)
}

start()
