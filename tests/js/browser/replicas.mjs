// The cluster's replicas as eng/cluster.sh lists them in cluster.env, for drivers that open a page on
// one replica or stop one:
//   REPLICA_PIDS   "r1:1234,r2:1235,r3:1236"                 — replica id → process id
//   REPLICA_URLS   "r1:http://127.0.0.1:5001,r2:..."          — replica id → its own URL

/** "r1:http://127.0.0.1:5001,..." → Map(replica id → URL without a trailing slash). */
export function parseUrls(text) {
  const map = new Map();
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = part.indexOf(':');
    if (at > 0) map.set(part.slice(0, at), part.slice(at + 1).replace(/\/+$/, ''));
  }
  return map;
}

/** "r1:1234,..." → Map(replica id → process id). */
export function parsePids(text) {
  const map = new Map();
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [id, pid] = part.split(':');
    if (id && /^\d+$/.test(pid ?? '')) map.set(id, Number(pid));
  }
  return map;
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The same join link, opened on another origin (a replica's own URL instead of nginx's). */
export const linkOn = (origin, link) => `${origin}/${new URL(link).hash}`;

/** The page's data attributes (status, replica, version, ...). */
export const dataset = (page) => page.evaluate(() => ({ ...document.body.dataset }));
