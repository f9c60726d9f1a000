// A list updated in place: rebuilding every item on each refresh would drop the keyboard focus on <body>, make
// screen readers read the whole list again and lose a click pressed across the rebuild. Items whose content did
// not change keep their elements; only changed, gone and new ones are touched.

// Element → the { key, signature } it was built from.
const built = new WeakMap();

/**
 * Makes parent's children the items, in their order. Each item is { key, signature, build() }: an element whose
 * key and signature are unchanged is kept, else build() makes a new one (and the old one goes). When the focus was
 * inside an item that was replaced (or moved), it goes to the control with the same data-testid in that item.
 * Uses only children, insertBefore, removeChild, contains, querySelector and focus (a fake can stand in for the DOM).
 */
export function updateList(parent, items, doc = parent.ownerDocument) {
  const old = new Map();
  for (const child of [...parent.children]) {
    const was = built.get(child);
    if (was && !old.has(was.key)) old.set(was.key, { element: child, signature: was.signature });
  }

  const focused = doc?.activeElement ?? null;
  const focusedKey = focused ? [...old].find(([, o]) => o.element.contains(focused))?.[0] : undefined;

  const wanted = items.map((item) => {
    const kept = old.get(item.key);
    if (kept && kept.signature === item.signature) return kept.element;
    const element = item.build();
    built.set(element, { key: item.key, signature: item.signature });
    return element;
  });

  // Gone and replaced ones first, so that kept ones in the same order are not moved (a move drops the focus).
  const keep = new Set(wanted);
  for (const child of [...parent.children]) if (!keep.has(child)) parent.removeChild(child);
  wanted.forEach((element, i) => {
    const at = parent.children[i] ?? null;
    if (at !== element) parent.insertBefore(element, at);
  });

  const testid = focused?.dataset?.testid;
  if (focusedKey === undefined || !testid || doc.activeElement === focused) return;
  const index = items.findIndex((item) => item.key === focusedKey);
  if (index < 0) return;
  const control = wanted[index].querySelector(`[data-testid="${testid}"]`);
  control?.focus();
}
