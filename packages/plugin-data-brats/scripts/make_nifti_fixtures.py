#!/usr/bin/env python3
"""Write the tiny NIfTI-1 fixtures used by src/io/*.test.ts, with nibabel (an independent
reader/writer), and the values nibabel reads back from them as JSON.

Run from packages/plugin-data-brats:  /usr/bin/python3 scripts/make_nifti_fixtures.py
(needs numpy and nibabel; Debian: python3-numpy python3-nibabel; tested with nibabel 5.0.0,
numpy 1.24). The tests only read the committed outputs, they never need python.

Expected values are what nibabel itself reads back from each written file:
`img.get_fdata()` (scaling applied), `img.affine` (nibabel's best affine: sform if
sform_code > 0, else qform if qform_code > 0, else the pixdim-based base affine) and the raw
header fields. Data are flattened with x fastest (Fortran order), voxseg's memory order.
"""
import json
import os

import nibabel as nib
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'io', '__fixtures__')
SHAPE = (4, 3, 2)  # (nx, ny, nz)


def rotation(ax, ay, az):
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def affine(rot, zooms, offset, flip_z=False):
    a = np.eye(4)
    m = rot @ np.diag(zooms)
    if flip_z:
        m[:, 2] *= -1
    a[:3, :3] = m
    a[:3, 3] = offset
    return a


A_ROT = affine(rotation(0.1, -0.2, 0.3), [1.5, 2.0, 2.5], [-10.5, 20.25, 3.0])
A_BRATS = np.array([[-1.0, 0, 0, -0.0], [0, -1.0, 0, 239.0], [0, 0, 1.0, 0], [0, 0, 0, 1]])
A_FLIP = affine(rotation(0.0, 0.0, 0.5), [1.0, 1.2, 3.0], [5.0, -6.0, 7.0], flip_z=True)


def values(dtype):
    n = int(np.prod(SHAPE))
    ramp = np.arange(n, dtype=np.float64)
    if dtype == np.uint8:
        v = ramp * 10 % 256
    elif dtype == np.int8:
        v = ramp * 5 - 60
    elif dtype == np.int16:
        v = ramp * 1000 - 12000
    elif dtype == np.uint16:
        v = ramp * 2500 + 3
    elif dtype == np.int32:
        v = ramp * 100000 - 1000000
    else:
        v = (ramp - 11.5) * 0.37 + 1e-3 * ramp ** 2
    return v.reshape(SHAPE, order='F').astype(dtype)


def record(name, img_path, note):
    img = nib.load(img_path)
    hdr = img.header
    data = img.get_fdata(dtype=np.float64)
    # After loading, nibabel moves the scaling from the header to the array proxy.
    slope, inter = float(img.dataobj.slope), float(img.dataobj.inter)
    with open(img_path, 'rb') as f:
        raw = f.read()
    return {
        'file': os.path.basename(img_path),
        'note': note,
        'datatype': int(hdr['datatype']),
        'dtype': str(hdr.get_data_dtype()),
        'big_endian': hdr.endianness == '>',
        'shape_xyz': [int(s) for s in img.shape],
        'pixdim': [float(p) for p in hdr['pixdim']],
        'qform_code': int(hdr['qform_code']),
        'sform_code': int(hdr['sform_code']),
        'quatern': [float(hdr['quatern_b']), float(hdr['quatern_c']), float(hdr['quatern_d'])],
        'qoffset': [float(hdr['qoffset_x']), float(hdr['qoffset_y']), float(hdr['qoffset_z'])],
        'scl_slope': slope,
        'scl_inter': inter,
        'affine': img.affine.tolist(),
        'qform': hdr.get_qform().tolist(),
        'sform': hdr.get_sform().tolist(),
        'data': data.flatten(order='F').tolist(),
        'bytes': len(raw),
    }


def save(img, name):
    path = os.path.join(OUT, name)
    nib.save(img, path)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    # 1. Every supported datatype, sform and qform both set to the same rotated affine.
    for dtype in (np.uint8, np.int8, np.int16, np.uint16, np.int32, np.float32, np.float64):
        img = nib.Nifti1Image(values(dtype), A_ROT)
        img.header.set_data_dtype(dtype)
        img.set_qform(A_ROT, code=1)
        img.set_sform(A_ROT, code=1)
        name = f'dtype-{np.dtype(dtype).name}.nii.gz'
        cases.append(record(name, save(img, name), f'{np.dtype(dtype).name}, no scaling'))
    # 2. sform and qform disagree: the sform (code > 0) wins.
    img = nib.Nifti1Image(values(np.int16), A_ROT)
    img.set_qform(A_FLIP, code=1)
    img.set_sform(A_BRATS, code=2)
    cases.append(record('sform-vs-qform.nii.gz', save(img, 'sform-vs-qform.nii.gz'), 'qform code 1 (A_FLIP), sform code 2 (A_BRATS): sform wins'))
    # 3. sform code 0: the qform is used (here with qfac = -1, a left-handed affine).
    img = nib.Nifti1Image(values(np.int16), A_FLIP)
    img.set_qform(A_FLIP, code=1)
    img.set_sform(A_BRATS, code=0)
    cases.append(record('qform-only.nii.gz', save(img, 'qform-only.nii.gz'), 'sform code 0, qform code 1 with qfac -1: qform wins'))
    # 4. Both codes 0: nibabel falls back to the pixdim-based base affine.
    img = nib.Nifti1Image(values(np.int16), A_ROT)
    img.header.set_zooms((1.5, 2.0, 2.5))
    img.set_qform(None, code=0)
    img.set_sform(None, code=0)
    img.header.set_zooms((1.5, 2.0, 2.5))
    cases.append(record('no-transform.nii.gz', save(img, 'no-transform.nii.gz'), 'qform and sform codes 0: base affine from pixdim'))
    # 5. scl_slope / scl_inter: float data stored as int16 with nibabel's own scaling.
    img = nib.Nifti1Image((values(np.float64) * 123.4 + 5000.0), A_BRATS)
    img.set_data_dtype(np.int16)
    img.header.set_slope_inter(0.25, -100.0)
    cases.append(record('scaled-int16.nii.gz', save(img, 'scaled-int16.nii.gz'), 'int16 with scl_slope/scl_inter'))
    # 6. Uncompressed .nii, big-endian header and data.
    hdr = nib.Nifti1Header().as_byteswapped('>')
    img = nib.Nifti1Image(values(np.float32).astype('>f4'), A_ROT, header=hdr)
    img.set_data_dtype(np.dtype('>f4'))
    cases.append(record('big-endian.nii', save(img, 'big-endian.nii'), 'uncompressed, big-endian float32'))
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': f'nibabel {nib.__version__}, numpy {np.__version__}', 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    for c in cases:
        print(c['file'], c['datatype'], c['dtype'], c['scl_slope'], c['scl_inter'], c['qform_code'], c['sform_code'], c['bytes'])


if __name__ == '__main__':
    main()
