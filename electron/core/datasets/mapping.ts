/**
 * Classes are mapped by NAME to dense 0-based ids, never as `id - 1`: gaps in COCO ids (1, 2, 4),
 * 0-based ids and Roboflow's unused placeholder category all come out right. Order is the sources'
 * declared order (COCO id order, CVAT label order, YOLO names order), first source first.
 * Unused categories are dropped by default, visibly; the user can rename, merge (two sources to one
 * target name) or drop (null) any category.
 */
import type { MappingFile } from '../../shared/schemas.js';
import type { SourceImage } from './model.js';

export interface ClassMapping {
  /** final class names, index = class id */
  names: string[];
  /** dense class id of a source category, undefined when dropped */
  classOf(category: string): number | undefined;
  /** the target name of a source category, null when dropped */
  targetOf(category: string): string | null;
  toFile(): MappingFile;
}

export function buildMapping(
  categories: readonly string[],
  images: readonly Pick<SourceImage, 'objects'>[],
  classMap: Readonly<Record<string, string | null>> = {},
): ClassMapping {
  const instances = new Map<string, number>();
  for (const img of images) for (const o of img.objects) instances.set(o.category, (instances.get(o.category) ?? 0) + 1);
  for (const key of Object.keys(classMap)) {
    if (!categories.includes(key)) throw new Error(`class mapping names "${key}", which is not a category of the sources`);
  }
  const target = new Map<string, string | null>();
  const dropped: MappingFile['dropped'] = [];
  for (const c of categories) {
    const n = instances.get(c) ?? 0;
    if (Object.prototype.hasOwnProperty.call(classMap, c)) {
      const t = classMap[c];
      const name = t === null || t === undefined ? null : t.trim();
      if (name === null || name === '') {
        target.set(c, null);
        dropped.push({ name: c, reason: 'user', instances: n });
      } else target.set(c, name);
    } else if (n === 0) {
      target.set(c, null);
      dropped.push({ name: c, reason: 'unused', instances: 0 });
    } else target.set(c, c);
  }
  const names: string[] = [];
  const idOf = new Map<string, number>();
  for (const c of categories) {
    const t = target.get(c);
    if (t && !idOf.has(t)) {
      idOf.set(t, names.length);
      names.push(t);
    }
  }
  const classOf = new Map<string, number>();
  for (const c of categories) {
    const t = target.get(c);
    if (t) classOf.set(c, idOf.get(t)!);
  }
  return {
    names,
    classOf: (c) => classOf.get(c),
    targetOf: (c) => target.get(c) ?? null,
    toFile: () => ({
      classes: names.map((name, id) => {
        const sources = categories.filter((c) => target.get(c) === name);
        return { id, name, sources, instances: sources.reduce((s, c) => s + (instances.get(c) ?? 0), 0) };
      }),
      dropped,
    }),
  };
}
