// Calls as they arrive, without reloading. The server sends each one already rendered, by the
// same template the page was built with, and this only puts it in place: a new call at the top of
// the Calls page, a call's row again when its outcome is known, the Dashboard's parts anew.
// Without this script the pages work as before.
const live = document.querySelector('[data-live]');
if (live && window.EventSource) {
  // The browser resumes a dropped stream itself, from the last new call it was sent.
  const events = new EventSource(live.dataset.live);
  const rowOf = (markup) => {
    const row = document.createElement('template');
    row.innerHTML = markup;
    return row.content.firstElementChild;
  };
  const inUse = (element) => element.contains(document.activeElement) || element.querySelector('details[open]');
  const shown = (call) => live.querySelector(`tr[data-sid="${CSS.escape(call.dataset.sid)}"]`);
  events.addEventListener('call', (event) => {
    const call = rowOf(event.data);
    if (!call || shown(call)) return;
    live.tBodies[0].prepend(call);
    live.hidden = false;
    document.getElementById('no-calls')?.remove();
  });
  events.addEventListener('outcome', (event) => {
    const call = rowOf(event.data);
    // A row the page does not show stays off it: it is older than the page, or filtered out.
    const old = call && shown(call);
    if (!old) return;
    // A form being filled in on the row is not taken from under the owner: only the outcome changes.
    if (inUse(old)) old.querySelector('td.outcome').replaceWith(call.querySelector('td.outcome'));
    else old.replaceWith(call);
  });
  for (const part of ['cards', 'after-no', 'chart', 'top', 'repeats']) {
    events.addEventListener(part, (event) => {
      const shownPart = document.querySelector(`[data-part="${part}"]`);
      // A Decline form opened there is kept; the part is counted anew after the next call.
      if (shownPart && !inUse(shownPart)) shownPart.innerHTML = event.data;
    });
  }
}
