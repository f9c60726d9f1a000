import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateList } from '../src/js/keyed-list.js';

// Just enough of the DOM for updateList: a node taken out of the document (removed, or moved by insertBefore)
// loses the focus to <body>, as in a browser.
class FakeDocument {
  constructor() {
    this.body = new FakeElement(this, 'body');
    this.activeElement = this.body;
    this.focusLost = 0;
  }
}

class FakeElement {
  constructor(doc, testid = null) {
    this.ownerDocument = doc;
    this.dataset = testid ? { testid } : {};
    this.children = [];
    this.parent = null;
  }

  contains(node) {
    for (let at = node; at; at = at.parent) if (at === this) return true;
    return false;
  }

  querySelector(selector) {
    const testid = /^\[data-testid="(.*)"\]$/.exec(selector)[1];
    for (const child of this.children) {
      if (child.dataset.testid === testid) return child;
      const found = child.querySelector(selector);
      if (found) return found;
    }
    return null;
  }

  append(...nodes) { for (const node of nodes) this.insertBefore(node, null); }

  insertBefore(node, before) {
    if (node.parent) node.parent.removeChild(node);
    const at = before === null ? this.children.length : this.children.indexOf(before);
    assert.ok(at >= 0, 'insertBefore: not a child');
    this.children.splice(at, 0, node);
    node.parent = this;
  }

  removeChild(node) {
    const at = this.children.indexOf(node);
    assert.ok(at >= 0, 'removeChild: not a child');
    const doc = this.ownerDocument;
    if (node.contains(doc.activeElement)) {
      doc.activeElement = doc.body;
      doc.focusLost += 1;
    }
    this.children.splice(at, 1);
    node.parent = null;
  }

  focus() { this.ownerDocument.activeElement = this; }
}

/** A list whose items are built like the operator page's: an item per key with a retry button. */
function setUp() {
  const doc = new FakeDocument();
  const list = new FakeElement(doc, 'dead-letters');
  doc.body.append(list);
  const builds = [];
  const item = (key, content = 'a') => ({
    key,
    signature: `${key}|${content}`,
    build: () => {
      builds.push(key);
      const li = new FakeElement(doc, `dead-${key}`);
      li.content = content;
      li.append(new FakeElement(doc, `retry-${key}`), new FakeElement(doc, `delete-${key}`));
      return li;
    },
  });
  const keys = () => list.children.map((c) => c.dataset.testid);
  const button = (testid) => list.querySelector(`[data-testid="${testid}"]`);
  return { doc, list, builds, item, keys, button };
}

test('the first update builds every item, in order', () => {
  const { list, builds, item, keys } = setUp();
  updateList(list, [item('1'), item('2'), item('3')]);
  assert.deepEqual(keys(), ['dead-1', 'dead-2', 'dead-3']);
  assert.deepEqual(builds, ['1', '2', '3']);
});

test('unchanged items keep their elements; changed ones are replaced, gone ones removed, new ones inserted in order', () => {
  const { list, builds, item, keys } = setUp();
  updateList(list, [item('1'), item('2'), item('3'), item('4')]);
  const [one, two, three] = list.children;
  builds.length = 0;

  updateList(list, [item('0'), item('1'), item('3', 'b'), item('4'), item('5')]);
  assert.deepEqual(keys(), ['dead-0', 'dead-1', 'dead-3', 'dead-4', 'dead-5']);
  assert.deepEqual(builds, ['0', '3', '5']);
  assert.equal(list.children[1], one);
  assert.notEqual(list.children[2], three);
  assert.equal(list.children[2].content, 'b');
  assert.equal(two.parent, null);
});

test('the order follows the items, also when the server reorders them', () => {
  const { list, builds, item, keys } = setUp();
  updateList(list, [item('1'), item('2'), item('3')]);
  const before = [...list.children];
  builds.length = 0;
  updateList(list, [item('3'), item('1'), item('2')]);
  assert.deepEqual(keys(), ['dead-3', 'dead-1', 'dead-2']);
  assert.deepEqual(builds, []);
  [before[2], before[0], before[1]].forEach((element, i) => assert.equal(list.children[i], element));
});

test('an empty list removes everything; children it did not build are replaced', () => {
  const { doc, list, item, keys } = setUp();
  list.append(new FakeElement(doc, 'stray'));
  updateList(list, [item('1')]);
  assert.deepEqual(keys(), ['dead-1']);
  updateList(list, []);
  assert.deepEqual(keys(), []);
});

test('a focused button in a kept item keeps the focus: the same node, never taken out', () => {
  const { doc, list, item, button } = setUp();
  updateList(list, [item('1'), item('2'), item('3')]);
  const retry = button('retry-2');
  retry.focus();
  updateList(list, [item('2'), item('3'), item('4')]); // the one before it went, one came after it
  assert.equal(doc.activeElement, retry);
  assert.equal(button('retry-2'), retry);
  assert.equal(doc.focusLost, 0);
});

test('a focused button in a replaced item hands the focus to the same button in the replacement', () => {
  const { doc, list, item, button } = setUp();
  updateList(list, [item('1'), item('2')]);
  const old = button('delete-2');
  old.focus();
  updateList(list, [item('1'), item('2', 'b')]);
  assert.notEqual(button('delete-2'), old);
  assert.equal(doc.activeElement, button('delete-2'));
});

test('a focused button in a moved item gets the focus back', () => {
  const { doc, list, item, button } = setUp();
  updateList(list, [item('1'), item('2'), item('3')]);
  const retry = button('retry-3');
  retry.focus();
  updateList(list, [item('3'), item('1'), item('2')]);
  assert.equal(doc.focusLost, 1); // a move takes it out of the document, as in a browser
  assert.equal(doc.activeElement, retry);
});

test('the focus elsewhere, or in an item that went, is left alone', () => {
  const { doc, list, item } = setUp();
  const outside = new FakeElement(doc, 'refresh');
  doc.body.append(outside);
  updateList(list, [item('1')]);
  outside.focus();
  updateList(list, [item('1', 'b')]);
  assert.equal(doc.activeElement, outside);

  list.querySelector('[data-testid="retry-1"]').focus();
  updateList(list, [item('2')]);
  assert.equal(doc.activeElement, doc.body);
});
