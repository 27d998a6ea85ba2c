// Builds the /map page into ../app/static/map (committed, so the service needs no npm at run time).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
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
// Brotli, precompressed once here at the highest quality (build time is free; the server never
// compresses per request): the server sends <name>.br to clients that accept br.
// brotli.json names the sha256 of each file a .br copy was made from: the server sends a copy
// only while it matches the file (a file changed without a rebuild goes out gzip-compressed).
const packed = {};
for (const name of ['index.html', 'map.js', 'map.css', 'maplibre-gl.js', 'sw.js']) {
  const raw = readFileSync(join(out, name));
  packed[name] = createHash('sha256').update(raw).digest('hex');
  writeFileSync(join(out, `${name}.br`), brotliCompressSync(raw, { params: {
    [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
    [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length } }));
}
writeFileSync(join(out, 'brotli.json'), `${JSON.stringify(packed, null, 1)}\n`);
console.log(readdirSync(out).join('\n'));
