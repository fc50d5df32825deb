/** The page's skeleton (header, stage, panels) and the elements the other modules fill and listen to. */
import { $ } from './dom'

document.body.innerHTML = `
<header>
  <div class="title-row">
    <h1>raftkv playground</h1>
    <span id="subtitle"></span>
  </div>
  <div class="controls">
    <button id="play" type="button" class="primary"></button>
    <button id="step" type="button" title="handle the next event (key: s)">Step</button>
    <label>speed <select id="speed"></select></label>
    <span id="clock" class="clock"></span>
    <span class="sep"></span>
    <label>replicas <select id="replica-count"></select></label>
    <label>seed <input id="seed" type="number" min="0" max="4294967295" value="1"></label>
    <button id="new" type="button" title="a fresh cluster with this seed and size">New cluster</button>
    <button id="rewind" type="button" title="the same seed and actions, from time zero">Replay from start</button>
    <button id="to-failure" type="button" class="primary" hidden>Go to the failure</button>
    <span class="sep"></span>
    <button id="share" type="button" title="put the scenario in the address bar">Link</button>
    <button id="export" type="button" class="live-only">Export</button>
    <label class="file-button live-only">Import<input id="import" type="file" accept="application/json,.json"></label>
  </div>
  <div id="notice" hidden></div>
</header>
<main>
  <section class="stage-column">
    <svg id="stage" viewBox="0 0 640 560" role="img" aria-label="the replicas and the messages between them"></svg>
    <div class="stage-help">Click a replica or a message to see the step behind it. Click a link to cut or mend it.
      <button id="heal" type="button" class="live-only">Mend every link</button></div>
    <div id="legend"></div>
  </section>
  <section class="side-column">
    <div class="panel" id="client-panel">
      <h2>Client</h2>
      <form id="request-form" autocomplete="off" class="live-only">
        <select id="client" title="which client sends"></select>
        <input id="key" placeholder="key" value="x" size="6">
        <input id="value" placeholder="value" value="1" size="6">
        <select id="target" title="where the client sends it"></select>
        <button id="put" type="submit" class="primary">Put</button>
        <button id="get" type="button">Get</button>
      </form>
      <div id="verdict"></div>
      <div class="scroll requests-scroll"><table id="requests"><tbody></tbody></table></div>
    </div>
    <div class="panel" id="details"></div>
  </section>
</main>
<section class="panel wide">
  <h2>Replicas <span class="hint">role, term, vote, log (solid: committed, ● applied), election timer</span></h2>
  <table id="replicas"><tbody></tbody></table>
  <div class="group-row live-only">Tick replicas, then <button id="split" type="button">Cut them off from the rest</button></div>
</section>
<section class="panel wide">
  <h2>Messages in flight <span class="hint">drop, delay or duplicate one</span></h2>
  <div class="scroll flights-scroll"><table id="flights"><tbody></tbody></table></div>
</section>
<footer>Every replica runs <code>step</code> from src/domain, the reducer the real replicas run, with the effect interpreter of src/effects/perform.ts; time is virtual and every random number comes from the seed, so a scenario replays exactly.</footer>
`

export const playButton = $<HTMLButtonElement>('#play')
export const speedSelect = $<HTMLSelectElement>('#speed')
export const countSelect = $<HTMLSelectElement>('#replica-count')
export const seedInput = $<HTMLInputElement>('#seed')
export const clock = $<HTMLElement>('#clock')
export const notice = $<HTMLElement>('#notice')
export const stage = $<SVGSVGElement>('#stage')
export const clientSelect = $<HTMLSelectElement>('#client')
export const targetSelect = $<HTMLSelectElement>('#target')
export const keyInput = $<HTMLInputElement>('#key')
export const valueInput = $<HTMLInputElement>('#value')
