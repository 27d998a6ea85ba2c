// UI strings from message files: a language is one JSON file in ./i18n (keys are the same in each).
import en from './i18n/en.json';
import fr from './i18n/fr.json';

export const LANGUAGES = { en, fr };
const KEY = 'kinga.lang';
let current = localStorage.getItem(KEY) || ((navigator.language || 'en').startsWith('fr') ? 'fr' : 'en');
if (!LANGUAGES[current]) current = 'en';

export const lang = () => current;

// A code from the data (threat level, category, status…) in the current language: `code.<x>` in
// the message file, else the code made readable.
export function code(value) {
  const key = `code.${value}`;
  return LANGUAGES[current][key] ?? LANGUAGES.en[key] ?? String(value ?? '').replace(/_/g, ' ');
}

export function t(key, vars = {}) {
  const text = LANGUAGES[current][key] ?? LANGUAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

// Every element with data-i18n gets its text from the current language.
export function translate(root = document) {
  document.documentElement.lang = current;
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
}

export function setLanguage(code) {
  if (!LANGUAGES[code]) return;
  current = code;
  localStorage.setItem(KEY, code);
  translate();
  document.dispatchEvent(new CustomEvent('kinga:lang'));
}

// Times are shown in the mission's time zone (IANA name from the mission profile), e.g.
// "2024-03-02 22:00 (UTC+1)".
let zone = 'UTC';
export function setMissionZone(name) {
  try { new Intl.DateTimeFormat('en', { timeZone: name }); zone = name || 'UTC'; } catch { zone = 'UTC'; }
}
// The zone's offset from UTC at an instant, in minutes.
function offsetMinutes(ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    .formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  return Math.round((asUtc - Math.floor(ms / 60000) * 60000) / 60000);
}
const fmtOffset = (min) => `${min < 0 ? '-' : '+'}${String(Math.floor(Math.abs(min) / 60)).padStart(2, '0')}:${String(Math.abs(min) % 60).padStart(2, '0')}`;
function localIso(ms) { return new Date(ms + offsetMinutes(ms) * 60000).toISOString().slice(0, 16); }
export function missionTime(iso) {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso);
  const off = offsetMinutes(ms);
  return `${localIso(ms).replace('T', ' ')} (UTC${off % 60 ? fmtOffset(off) : `${off >= 0 ? '+' : '-'}${Math.abs(off / 60)}`})`;
}
// A mission-time "YYYY-MM-DDTHH:MM" (datetime-local input) as an ISO instant with its offset.
export function fromMissionLocal(value) {
  const guess = Date.parse(`${value}:00Z`);
  return `${value}:00${fmtOffset(offsetMinutes(guess - offsetMinutes(guess) * 60000))}`;
}
export function missionNowLocal() { return localIso(Date.now()); }
