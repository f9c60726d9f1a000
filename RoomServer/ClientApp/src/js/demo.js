// Development-only helper page: POST /demo/rooms creates a room with a sample menu and returns one
// join link per member. In Production the endpoint does not exist (404): say so instead of failing.

const $ = (id) => document.getElementById(id);

function showError(text) {
  $('error-text').textContent = text;
  $('error').hidden = false;
  document.body.dataset.status = 'error';
}

function linkRow(link) {
  const url = new URL(link.url, location.href).href;
  const li = document.createElement('li');
  li.className = 'member';
  li.dataset.testid = `link-${link.memberId}`;
  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  avatar.textContent = (link.displayName || '?').charAt(0).toUpperCase();
  const name = document.createElement('span');
  name.className = 'member-name';
  name.textContent = `${link.displayName}${link.role === 'owner' ? ' (owner)' : ''}`;
  const open = document.createElement('a');
  open.className = 'button';
  open.href = url;
  open.target = '_blank';
  open.rel = 'noopener noreferrer';
  open.textContent = 'Open';
  open.setAttribute('aria-label', `Open the room as ${link.displayName} in a new window`);
  li.append(avatar, name, open);
  if (navigator.clipboard) {
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'button secondary';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', `Copy the link for ${link.displayName}`);
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(url);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Copy failed';
      }
    });
    li.append(copy);
  }
  return li;
}

async function startDemo() {
  const button = $('start');
  button.disabled = true;
  $('error').hidden = true;
  document.body.dataset.status = 'creating';
  try {
    const response = await fetch('/demo/rooms', { method: 'POST' });
    if (response.status === 404) {
      showError('Demo rooms are only available when RoomServer runs in Development (ASPNETCORE_ENVIRONMENT=Development).');
      return;
    }
    if (!response.ok) {
      showError(`The server could not create a demo room (HTTP ${response.status}).`);
      return;
    }
    const room = await response.json();
    $('room-line').textContent = `Room ${room.roomId}`;
    $('links').replaceChildren(...(room.links ?? []).map(linkRow));
    $('result').hidden = false;
    document.body.dataset.status = 'ready';
  } catch {
    showError('Cannot reach the server. Is RoomServer running?');
  } finally {
    button.disabled = false;
  }
}

$('start').addEventListener('click', startDemo);
