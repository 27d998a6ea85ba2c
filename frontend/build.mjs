// Builds the /map page into ../app/static/map (committed, so the service needs no npm at run time).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'app', 'static', 'map');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, 'src', 'main.js')],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',
  target: ['es2020'],
  outfile: join(out, 'map.js'),
  legalComments: 'eof',
  logLevel: 'info',
});
copyFileSync(join(here, 'src', 'index.html'), join(out, 'index.html'));
// The service worker is served from /map/sw.js (scope /map); small, so shipped as written.
copyFileSync(join(here, 'src', 'sw.js'), join(out, 'sw.js'));
// axe-core for the browser tests' accessibility checks (never served to users).
const vendor = join(here, '..', 'tests', 'browser', 'vendor');
mkdirSync(vendor, { recursive: true });
copyFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), join(vendor, 'axe.min.js'));
// Already minified upstream; copied as is except its sourcemap reference (no maps shipped).
const maplibre = readFileSync(join(here, 'node_modules', 'maplibre-gl', 'dist', 'maplibre-gl.js'), 'utf8');
writeFileSync(join(out, 'maplibre-gl.js'), maplibre.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n'));
copyFileSync(join(here, 'node_modules', 'maplibre-gl', 'LICENSE.txt'), join(out, 'maplibre-gl.LICENSE.txt'));
console.log(readdirSync(out).join('\n'));
