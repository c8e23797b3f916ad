// Renders resources/icons/icon.svg to the PNG electron-builder derives every platform icon from.
// Run once after changing the SVG: `node scripts/make-icons.mjs`.
import sharp from 'sharp';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../resources/icons');
const svg = path.join(dir, 'icon.svg');
for (const size of [512]) {
  const out = path.join(dir, size === 512 ? 'icon.png' : `${size}x${size}.png`);
  // density scales the SVG's 512px canvas so the raster is drawn at full resolution, not upscaled
  await sharp(svg, { density: (72 * size) / 512 }).resize(size, size).png({ compressionLevel: 9 }).toFile(out);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
