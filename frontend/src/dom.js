// Tiny DOM helpers. Text from the API is only ever inserted as text nodes, never as markup.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export const $ = (id) => document.getElementById(id);

export function svg(tag, attrs = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

// "sexual_violence" -> "sexual violence"
export const human = (code) => String(code ?? '').replace(/_/g, ' ');

// Keyboard users keep their place when a list is redrawn: call before the redraw, call the
// returned function after it. Focus goes back to the same control of the same card (by its
// data-alert / data-warning / data-incident), else to the card, else to the screen's heading.
const CARD_KEYS = ['data-alert', 'data-warning', 'data-incident'];
export function rememberFocus() {
  const a = document.activeElement;
  if (!a || a === document.body) return () => {};
  let attr = null;
  let card = null;
  for (const name of CARD_KEYS) {
    card = a.closest(`li[${name}], article[${name}]`);
    if (card) { attr = name; break; }
  }
  const value = card?.getAttribute(attr);
  const sel = a.id ? `#${CSS.escape(a.id)}` : a.classList.length ? `.${CSS.escape(a.classList[0])}` : null;
  const screen = a.closest('.screen');
  return () => {
    if (a.isConnected && !a.disabled) { if (document.activeElement !== a) a.focus(); return; }
    let target = null;
    if (attr) {
      const c = document.querySelector(`[${attr}="${CSS.escape(value)}"]`);
      if (c) target = (sel && c.querySelector(sel)) || c;
    }
    if (!target && a.id) target = document.getElementById(a.id);
    if (!target || target.disabled) target = screen?.querySelector('h2');
    if (!target) return;
    if (!target.matches('a[href], button, input, select, textarea, [tabindex]')) target.tabIndex = -1;
    target.focus();
  };
}
