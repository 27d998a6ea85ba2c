// Colour-blind-safe palettes: ColorBrewer YlOrRd (threat), Paul Tol "muted" (categories),
// Okabe-Ito (desired effects), ColorBrewer RdPu (warning severity), viridis (forecast).

export const THREAT_LEVELS = [
  ['low', '#ffffb2'], ['medium', '#fecc5c'], ['high', '#fd8d3c'], ['critical', '#e31a1c'],
];

export const CATEGORIES = [
  ['killing', '#CC6677'], ['injury', '#332288'], ['abduction', '#DDCC77'],
  ['sexual_violence', '#117733'], ['looting_destruction', '#88CCEE'], ['displacement', '#882255'],
  ['attack_on_peacekeepers', '#44AA99'], ['threat_intimidation', '#999933'],
  ['armed_group_presence', '#AA4499'], ['other', '#BBBBBB'],
];

export const EFFECTS = [
  ['protect', '#D55E00'], ['deter', '#E69F00'], ['enable_investigation', '#CC79A7'],
  ['situational_awareness', '#56B4E9'], ['humanitarian_access', '#009E73'],
  ['encourage_returns', '#0072B2'],
];

export const SEVERITIES = [
  ['Extreme', '#7a0177'], ['Severe', '#c51b8a'], ['Moderate', '#f768a1'], ['Minor', '#fbb4b9'],
];

export const VIRIDIS = [
  [0, '#440154'], [0.25, '#3b528b'], [0.5, '#21918c'], [0.75, '#5ec962'], [1, '#fde725'],
];

export const NEUTRAL = '#9e9e9e';

// MapLibre `match` expression over a property, with a neutral fallback for unknown values.
export function matchColour(property, pairs) {
  return ['match', ['coalesce', ['get', property], ''], ...pairs.flat(), NEUTRAL];
}
