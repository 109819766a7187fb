// Calls as they arrive, without reloading. The server sends each one already rendered, by the
// same template the page was built with, and this only puts it in place: a new call at the top of
// the Calls page, the Dashboard's counts anew. Without this script the pages work as before.
const live = document.querySelector('[data-live]');
if (live && window.EventSource) {
  const events = new EventSource(live.dataset.live);
  events.addEventListener('call', (event) => {
    const row = document.createElement('template');
    row.innerHTML = event.data;
    const call = row.content.firstElementChild;
    // A reconnected stream may send a call the page already shows.
    if (!call || live.querySelector(`tr[data-sid="${CSS.escape(call.dataset.sid)}"]`)) return;
    live.tBodies[0].prepend(call);
    live.hidden = false;
    document.getElementById('no-calls')?.remove();
  });
  events.addEventListener('cards', (event) => {
    live.innerHTML = event.data;
  });
}
