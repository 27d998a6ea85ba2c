// Small geometry helpers for client-drawn shapes (reach rings) and feature positions.

const EARTH_RADIUS_KM = 6371.0088;

// Geodesic circle as a closed counter-clockwise GeoJSON ring of `steps` vertices.
export function circleRing([lon, lat], radiusKm, steps = 64) {
  const d = radiusKm / EARTH_RADIUS_KM;
  const φ1 = (lat * Math.PI) / 180;
  const λ1 = (lon * Math.PI) / 180;
  const ring = [];
  for (let i = 0; i < steps; i += 1) {
    const θ = (-2 * Math.PI * i) / steps; // negative bearing step: counter-clockwise
    const φ2 = Math.asin(Math.sin(φ1) * Math.cos(d) + Math.cos(φ1) * Math.sin(d) * Math.cos(θ));
    const λ2 = λ1 + Math.atan2(Math.sin(θ) * Math.sin(d) * Math.cos(φ1),
      Math.cos(d) - Math.sin(φ1) * Math.sin(φ2));
    ring.push([(λ2 * 180) / Math.PI, (φ2 * 180) / Math.PI]);
  }
  ring.push(ring[0]);
  return ring;
}

// A representative point: the vertex mean of a polygon's outer ring, or the point itself.
export function featureCentre(feature) {
  const g = feature.geometry;
  if (!g) return null;
  if (g.type === 'Point') return g.coordinates;
  const ring = g.type === 'Polygon' ? g.coordinates[0]
    : g.type === 'MultiPolygon' ? g.coordinates[0][0] : null;
  if (!ring || ring.length < 2) return null;
  const pts = ring.slice(0, -1);
  return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
}

// Accepts a FeatureCollection, a list, or {items: [...]} of records with geometry or lat/lon.
export function toCollection(doc) {
  if (!doc) return { type: 'FeatureCollection', features: [] };
  if (doc.type === 'FeatureCollection') return doc;
  const items = Array.isArray(doc) ? doc : doc.items || doc.features || [];
  const features = [];
  for (const item of items) {
    if (item && item.type === 'Feature') { features.push(item); continue; }
    const geometry = item.geometry || item.area || item.location
      || (Number.isFinite(item.longitude) && Number.isFinite(item.latitude)
        ? { type: 'Point', coordinates: [item.longitude, item.latitude] } : null);
    if (!geometry || !geometry.type) continue;
    const { geometry: _g, ...properties } = item;
    features.push({ type: 'Feature', id: item.id, geometry, properties });
  }
  return { type: 'FeatureCollection', features };
}

export function isoDate(d) { return d.toISOString().slice(0, 10); }

export function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return isoDate(d);
}
