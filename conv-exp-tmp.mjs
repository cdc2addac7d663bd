import * as tf from '@tensorflow/tfjs-core';
import { registerNativeBackend } from '@voxseg/backend-native';
registerNativeBackend(); await tf.setBackend('native');
const { addon } = await import('./packages/backend-native/dist/addon/load-addon.js');
const { convParams } = await import('./packages/backend-native/dist/kernels/conv3d.js');
const P = Number(process.argv[2] ?? 64);
const shapes = [[P,4,32,1],[P,32,32,1],[P,64,32,1],[P,32,64,2],[P/2,64,64,1],[P/2,128,64,1],[P/4,128,128,1],[P/8,256,256,1]];
for (const [s, ci, co, st] of shapes) {
  const info = tf.backend_util.computeConv3DInfo([1,s,s,s,ci],[3,3,3,ci,co],st,1,'same');
  const p = convParams(info);
  const x = new Float32Array(s*s*s*ci).map(()=>Math.random()-0.5), w = new Float32Array(27*ci*co).map(()=>Math.random()-0.5), b = new Float32Array(co);
  const y = new Float32Array(info.outDepth*info.outHeight*info.outWidth*co);
  const y2 = new Float32Array(y.length);
  const fl = 2*info.outDepth*info.outHeight*info.outWidth*co*27*ci/1e9;
  for (const bl of [0,1,2,3]) addon().conv3dInference(x,w,b,bl?y2:y,p,0.01,bl);
  let md=0; for (let i=0;i<y.length;i++) md=Math.max(md,Math.abs(y[i]-y2[i]));
  const t=[[],[],[],[]];
  for (let r=0;r<3;r++) for (const bl of [0,1,2,3]) { const t0=performance.now(); addon().conv3dInference(x,w,b,bl?y2:y,p,0.01,bl); t[bl].push(performance.now()-t0);}
  const ms=t.map(a=>Math.min(...a));
  console.log(`${s}^3 ${ci}->${co} s${st}: ` + ms.map((m,i)=>["ndhwc","both","src","dst"][i]+" "+(fl/m*1e3).toFixed(1)).join(" | "));
}

