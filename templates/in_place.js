// The Calls page's actions without a reload, so the owner keeps their place in a long list. A
// row's Decline, Edit and "This was a customer", Decline selected, and each banner's Undo are sent
// in the background with the form's own fields; the server answers the same action with the
// banner and the rows of every number it changed, rendered by the templates the page is built
// with, and they take the place of the old ones. Without this script every form posts and the
// page reloads, as it always did.
const table = document.getElementById('calls');
const banners = document.getElementById('banners');

// What went wrong, in the form the owner used; what they typed stays as it is.
function say(form, message) {
  let error = form.querySelector('.error');
  if (!error) {
    error = document.createElement('p');
    error.className = 'error';
    error.setAttribute('role', 'alert');
    (form.querySelector('fieldset') || form).append(error);
  }
  error.textContent = message;
}

function inPlace(form) {
  return form.method === 'post' && (form.id === 'bulk-decline' || form.closest('#calls, #banners'));
}

async function send(form, submitter) {
  form.querySelector('.error')?.remove();
  let response;
  try {
    response = await fetch(form.action, {
      method: 'POST',
      body: new URLSearchParams(new FormData(form, submitter)),
      headers: { 'X-Saidno-Fragment': 'calls' },
    });
  } catch {
    // The request may or may not have arrived: say so rather than send it a second time.
    say(form, 'saidno could not be reached, so this is not confirmed as saved. Check the connection and try again.');
    return;
  }
  const answer = new DOMParser().parseFromString(await response.text(), 'text/html');
  if (!response.ok) {
    const error = answer.getElementById('error');
    say(form, error ? `${error.textContent.trim()} Nothing was changed.` : `saidno answered ${response.status}; nothing was changed.`);
    return;
  }
  const rows = answer.getElementById('changed-rows');
  if (!rows) {
    // Answered with a page of its own (signed out, say): go there, as a plain form would.
    window.location.assign(response.url);
    return;
  }
  const { scrollX, scrollY } = window;
  for (const row of rows.querySelectorAll('tr[data-sid]')) {
    table.querySelector(`tr[data-sid="${CSS.escape(row.dataset.sid)}"]`)?.replaceWith(document.adoptNode(row));
  }
  banners.replaceChildren(...document.adoptNode(answer.getElementById('banners')).childNodes);
  banners.classList.add('floating');
  if (form.id === 'bulk-decline') {
    form.reset();
    for (const box of document.querySelectorAll('input[form="bulk-decline"]')) box.checked = false;
  }
  window.scrollTo(scrollX, scrollY);
  // A keyboard or screen-reader user lands on the banner, whose Undo is next.
  const banner = banners.querySelector('.banner');
  if (banner) {
    // Floating over the list, it can be put away once read.
    const hide = document.createElement('button');
    hide.type = 'button';
    hide.textContent = 'Hide';
    hide.addEventListener('click', () => banners.replaceChildren());
    banner.append(' ', hide);
    banner.tabIndex = -1;
    banner.focus({ preventScroll: true });
  }
}

if (table && banners && window.fetch) {
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !inPlace(form)) return;
    event.preventDefault();
    if (form.dataset.sending) return;
    form.dataset.sending = 'yes';
    send(form, event.submitter).finally(() => delete form.dataset.sending);
  });
}
