// UI strings from message files: a language is one JSON file in ./i18n (keys are the same in each).
import en from './i18n/en.json';
import fr from './i18n/fr.json';

export const LANGUAGES = { en, fr };
const KEY = 'kinga.lang';
let current = localStorage.getItem(KEY) || ((navigator.language || 'en').startsWith('fr') ? 'fr' : 'en');
if (!LANGUAGES[current]) current = 'en';

export const lang = () => current;

export function t(key, vars = {}) {
  const text = LANGUAGES[current][key] ?? LANGUAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

// Every element with data-i18n gets its text from the current language.
export function translate(root = document) {
  document.documentElement.lang = current;
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
}

export function setLanguage(code) {
  if (!LANGUAGES[code]) return;
  current = code;
  localStorage.setItem(KEY, code);
  translate();
  document.dispatchEvent(new CustomEvent('kinga:lang'));
}

// Times are shown in mission time (the server's UTC offset), e.g. "2024-03-02 22:00 (UTC+1)".
let offsetHours = 0;
export function setMissionOffset(hours) { offsetHours = Number(hours) || 0; }
export function missionTime(iso) {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso);
  const local = new Date(ms + offsetHours * 3600e3).toISOString().slice(0, 16).replace('T', ' ');
  return `${local} (UTC${offsetHours >= 0 ? '+' : ''}${offsetHours})`;
}
// A mission-time "YYYY-MM-DDTHH:MM" (datetime-local input) as an ISO instant with its zone.
export function fromMissionLocal(value) {
  const sign = offsetHours >= 0 ? '+' : '-';
  const h = String(Math.abs(offsetHours)).padStart(2, '0');
  return `${value}:00${sign}${h}:00`;
}
export function missionNowLocal() {
  return new Date(Date.now() + offsetHours * 3600e3).toISOString().slice(0, 16);
}
