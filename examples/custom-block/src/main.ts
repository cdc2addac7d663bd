import { runCustomBlockExample } from './run-example.js';

// `npm start -w @voxseg/example-custom-block` (after `npm run build`).
const result = await runCustomBlockExample({ iterations: 30, log: (l) => console.log(l) });
console.log(JSON.stringify({ firstLoss: result.firstLoss, lastLoss: result.lastLoss, reloadMaxDiff: result.reloadMaxDiff }));
