// Vitest 5 targets Node >= 22 and calls Map.groupBy / Object.groupBy (added in Node 21) while
// reporting failures. voxseg supports Node 20, so the test command preloads these two
// spec-conformant polyfills. They are installed only when missing.
if (typeof Map.groupBy !== 'function') {
  Object.defineProperty(Map, 'groupBy', {
    configurable: true, writable: true,
    value(items, key) {
      const out = new Map();
      let i = 0;
      for (const item of items) {
        const k = key(item, i++);
        const bucket = out.get(k);
        if (bucket) bucket.push(item); else out.set(k, [item]);
      }
      return out;
    },
  });
}
if (typeof Object.groupBy !== 'function') {
  Object.defineProperty(Object, 'groupBy', {
    configurable: true, writable: true,
    value(items, key) {
      const out = Object.create(null);
      let i = 0;
      for (const item of items) {
        const k = key(item, i++);
        (out[k] ??= []).push(item);
      }
      return out;
    },
  });
}
