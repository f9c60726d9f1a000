// Where the page's hub connection goes. `room=` is the proxy's routing hint (DESIGN §7): nginx
// hashes on the room instead of this browser's affinity cookie, so a room's members share one
// replica and each change is published to, and framed by, one replica. The server ignores it, and
// a member who lands elsewhere (no proxy, an old proxy) is served just the same. SignalR keeps the
// query on the negotiate request and on the WebSocket alike, as the hint needs. The repo's nginx
// routes by the room the token's header names before the hint (which then goes unused); the hint
// stays for proxies that route by it alone.

export const HUB_PATH = '/hubs/room';

/** The hub URL for one room: `/hubs/room?room=<roomId>` (encoded as one query value). */
export function hubUrl(roomId) {
  if (typeof roomId !== 'string' || roomId === '') throw new TypeError('hubUrl needs the room id');
  return `${HUB_PATH}?room=${encodeURIComponent(roomId)}`;
}
