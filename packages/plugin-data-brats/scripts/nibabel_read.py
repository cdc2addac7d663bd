#!/usr/bin/env python3
"""Print what nibabel reads from NIfTI files, as one JSON line: used by src/io/nibabel-interop.test.ts
to check that files voxseg writes are read identically by an independent implementation.
Usage: python3 scripts/nibabel_read.py FILE [FILE...]   (exit 3 when nibabel is missing)"""
import json
import sys

try:
    import nibabel as nib
    import numpy as np
except ImportError:
    sys.exit(3)

out = []
for path in sys.argv[1:]:
    img = nib.load(path)
    h = img.header
    out.append({
        'shape_xyz': [int(s) for s in img.shape],
        'dtype': str(h.get_data_dtype()),
        'affine': img.affine.tolist(),
        'qform': h.get_qform().tolist(),
        'codes': [int(h['qform_code']), int(h['sform_code'])],
        'data': np.asanyarray(img.dataobj).flatten(order='F').astype(float).tolist(),
    })
print(json.dumps(out))
