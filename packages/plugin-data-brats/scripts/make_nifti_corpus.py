#!/usr/bin/env python3
"""Write the standing NIfTI corpus read by src/io/nifti-corpus.test.ts: small real-world header
variants (datatypes, scaling, byte order, .nii/.nii.gz, singleton dims, qform/sform codes,
extensions and vox_offset > 352, gzip members and trailing bytes) and broken ones, with what
voxseg must read from each (values, shape, affine) or the error it must give.

Run from packages/plugin-data-brats:  /usr/bin/python3 scripts/make_nifti_corpus.py
(needs numpy and nibabel; Debian: python3-numpy python3-nibabel; written with nibabel 5.0.0).
The test only reads the committed files and corpus.json, it never needs python.

Where the expected values come from (independent of voxseg):
- every readable file is loaded by nibabel itself: `get_fdata()` (scaling applied), `img.affine`
  (sform if sform_code > 0, else qform if qform_code > 0, else the pixdim base affine), dims;
- the gzip variants with trailing bytes are made 12 KB of incompressible data so that nibabel
  (Python's gzip, which reads only the bytes it needs) reads them directly.
Broken files carry `error`: the header field voxseg must name. Each case also records what
nibabel does with the exact file (`nibabel`), so where voxseg is stricter it says so (`note`).
"""
import gzip
import hashlib
import json
import os
import struct
import warnings

import nibabel as nib
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'io', '__fixtures__', 'corpus')
SHAPE = (4, 3, 2)  # (nx, ny, nz)
EYE = np.eye(4)
A_ROT = np.array([
    [1.4044400453567505, -0.6259836554527283, -0.3983626961708069, -10.5],
    [0.43444421887397766, 1.8894050121307373, -0.38447999954223633, 20.25],
    [0.29800400137901306, 0.19568678736686707, 2.4379258155822754, 3.0],
    [0, 0, 0, 1]])
A_BRATS = np.array([[-1.0, 0, 0, 0], [0, -1.0, 0, 239.0], [0, 0, 1.0, 0], [0, 0, 0, 1]])
A_FLIP = np.array([[0.8775825618903728, -0.5753106827952938, 0, 5.0], [0.479425538604203, 1.0530990742684474, 0, -6.0], [0, 0, -3.0, 7.0], [0, 0, 0, 1]])


def values(dtype, shape=SHAPE):
    n = int(np.prod(shape))
    ramp = np.arange(n, dtype=np.float64)
    table = {
        np.uint8: ramp * 10 % 256, np.int8: ramp * 5 - 60, np.int16: ramp * 1000 - 12000,
        np.uint16: ramp * 2500 + 3, np.int32: ramp * 100000 - 1000000,
    }
    v = table.get(dtype, (ramp - 11.5) * 0.37 + 1e-3 * ramp ** 2)
    return v.reshape(shape, order='F').astype(dtype)


def nifti_bytes(img):
    """The single-file bytes nibabel writes for `img` (uncompressed)."""
    path = os.path.join(OUT, '.tmp.nii')
    nib.save(img, path)
    with open(path, 'rb') as f:
        data = f.read()
    os.remove(path)
    return bytearray(data)


def image(dtype=np.int16, affine=EYE, shape=SHAPE, qcode=1, scode=1):
    img = nib.Nifti1Image(values(dtype, shape), affine)
    img.header.set_data_dtype(dtype)
    img.set_qform(affine, code=qcode)
    img.set_sform(affine, code=scode)
    return img


def patch(b, offset, fmt, value):
    b = bytearray(b)
    b[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return b


def nibabel_read(path):
    """What nibabel does with the exact file: values or its error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            img = nib.load(path)
            data = img.get_fdata(dtype=np.float64)
        return img, data, None
    except Exception as e:  # noqa: BLE001 - any refusal is recorded
        return None, None, f'{type(e).__name__}: {(str(e).splitlines() or [""])[0]}'


cases = []


def add(name, data, note, error=None, gz=False):
    """Write one corpus file (gzipped here when `gz`; hand-made gzip streams come as they are);
    `error` = (the field voxseg must name, a fragment of its message)."""
    path = os.path.join(OUT, name)
    with open(path, 'wb') as f:
        f.write(gzip.compress(bytes(data), mtime=0) if gz else bytes(data))
    img, data_, nib_error = nibabel_read(path)
    case = {'file': name, 'note': note, 'bytes': os.path.getsize(path)}
    case['nibabel'] = {'reads': nib_error is None} if nib_error is None else {'reads': False, 'error': nib_error}
    if error is not None:
        case['error'] = {'field': error[0], 'match': error[1]}
    else:
        if img is None:
            raise SystemExit(f'{name}: nibabel cannot read a file voxseg must read ({nib_error})')
        hdr = img.header
        case['expect'] = {
            'shape_xyz': [int(s) for s in img.shape],
            'dim': [int(d) for d in hdr['dim']],
            'datatype': int(hdr['datatype']),
            'big_endian': hdr.endianness == '>',
            'affine': img.affine.tolist(),
        }
        flat = data_.flatten(order='F')
        if flat.size <= 64:
            case['expect']['data'] = flat.tolist()
        else:  # large (float32) volumes: a digest of the exact float32 values, x fastest
            assert np.array_equal(flat.astype(np.float32).astype(np.float64), flat)
            case['expect']['data_count'] = int(flat.size)
            case['expect']['data_first'] = flat[:8].tolist()
            case['expect']['data_f32le_sha256'] = hashlib.sha256(flat.astype('<f4').tobytes()).hexdigest()
    cases.append(case)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    # --- readable variants -------------------------------------------------------------
    for dtype, ext in ((np.uint8, 'nii'), (np.int16, 'nii.gz'), (np.int32, 'nii'), (np.float32, 'nii.gz'), (np.float64, 'nii')):
        name = np.dtype(dtype).name
        add(f'dtype-{name}.{ext}', nifti_bytes(image(dtype, A_ROT)), f'{name}, sform = qform (code 1)', gz=ext == 'nii.gz')
    base = nifti_bytes(image(np.int16, A_BRATS))
    add('scaled-int16.nii', patch(patch(base, 112, '<f', 0.5), 116, '<f', -3.0), 'scl_slope 0.5, scl_inter -3: applied')
    add('scaled-uint8.nii.gz', patch(patch(nifti_bytes(image(np.uint8)), 112, '<f', 2.0), 116, '<f', 1.0), 'uint8 with scl_slope 2, scl_inter 1', gz=True)
    add('slope-zero.nii', patch(patch(base, 112, '<f', 0.0), 116, '<f', 5.0), 'scl_slope 0: no scaling (nibabel), scl_inter ignored')
    add('slope-nan.nii', patch(patch(base, 112, '<f', float('nan')), 116, '<f', 5.0), 'scl_slope NaN: no scaling (nibabel)')
    add('slope-inf.nii', patch(base, 112, '<f', float('inf')), 'scl_slope Inf: no scaling (nibabel)')
    be = nib.Nifti1Image(values(np.int16).astype('>i2'), A_ROT, header=nib.Nifti1Header().as_byteswapped('>'))
    be.set_data_dtype(np.dtype('>i2'))
    add('big-endian-int16.nii.gz', nifti_bytes(be), 'big-endian header and int16 data', gz=True)
    be = nib.Nifti1Image(values(np.float64).astype('>f8'), A_FLIP, header=nib.Nifti1Header().as_byteswapped('>'))
    be.set_data_dtype(np.dtype('>f8'))
    add('big-endian-float64.nii', nifti_bytes(be), 'big-endian float64, qfac -1 affine')
    add('singleton-4d.nii.gz', nifti_bytes(image(np.int16, A_BRATS, SHAPE + (1,))), 'dims (4, 3, 2, 1): read as 3-D', gz=True)
    add('singleton-5d.nii', nifti_bytes(image(np.uint8, A_BRATS, SHAPE + (1, 1))), 'dims (4, 3, 2, 1, 1): read as 3-D')
    add('qform-only.nii.gz', nifti_bytes(image(np.int16, A_FLIP, qcode=1, scode=0)), 'sform_code 0: qform (qfac -1) used', gz=True)
    img = image(np.int16, A_ROT, qcode=0, scode=2)
    add('sform-only.nii', nifti_bytes(img), 'qform_code 0, sform_code 2: sform used')
    img = image(np.int16, A_ROT)
    img.set_qform(A_FLIP, code=1)
    img.set_sform(A_BRATS, code=4)
    add('sform-over-qform.nii.gz', nifti_bytes(img), 'qform code 1 and sform code 4 disagree: sform wins', gz=True)
    img = image(np.int16, A_ROT, qcode=0, scode=0)
    img.header.set_zooms((1.5, 2.0, 2.5))
    add('no-transform.nii', nifti_bytes(img), 'both codes 0: pixdim base affine')
    img = image(np.int16, A_BRATS)
    img.header.extensions.append(nib.nifti1.Nifti1Extension('comment', b'voxseg corpus: an extension before the voxels'))
    add('extension.nii', nifti_bytes(img), 'a comment extension: vox_offset > 352')
    add('extension.nii.gz', nifti_bytes(img), 'a comment extension, gzipped', gz=True)
    img = image(np.float32, A_BRATS)
    img.header.set_data_offset(512)
    add('vox-offset-512.nii', nifti_bytes(img), 'vox_offset 512, zero padding, no extension')
    add('vox-offset-fraction.nii', patch(base, 108, '<f', 352.5), 'vox_offset 352.5: floor, as nibabel')
    add('two-d.nii', nifti_bytes(image(np.int16, EYE, (4, 3))), 'dim[0] = 2: read as nz = 1')
    raw = bytes(base)
    add('gzip-members.nii.gz', gzip.compress(raw[:200], mtime=0) + gzip.compress(raw[200:], mtime=0), 'two concatenated gzip members')
    # Trailing bytes: 12 KB of incompressible float32 so nibabel (which reads only what it
    # needs) reads the exact files; on tiny files Python's gzip buffering reaches the trailer.
    rng = np.random.default_rng(15)
    big = nib.Nifti1Image(rng.standard_normal((16, 16, 12)).astype(np.float32), A_BRATS)
    big_gz = gzip.compress(bytes(nifti_bytes(big)), mtime=0)
    for name, tail, note in (
        ('gzip-trailing-zeros.nii.gz', b'\0' * 64, '64 zero bytes after the member'),
        ('gzip-trailing-garbage.nii.gz', b'garbage after the gzip member\n', 'text after the member'),
        ('gzip-trailing-broken-member.nii.gz', b'\x1f\x8b\x08\x00broken', 'the start of a broken second member'),
    ):
        add(name, big_gz + tail, note)

    # --- broken headers: voxseg refuses, naming the field --------------------------------
    add('vox-offset-neg2.nii.gz', patch(base, 108, '<f', -2.0), 'issue 15 item 1: vox_offset -2', ('vox_offset', 'vox_offset = -2 is below 352'), gz=True)
    add('vox-offset-100.nii', patch(base, 108, '<f', 100.0), 'issue 15 item 2: vox_offset 100 reads header bytes as voxels', ('vox_offset', 'vox_offset = 100 is below 352'))
    add('vox-offset-100.nii.gz', patch(base, 108, '<f', 100.0), 'issue 15 item 2, gzipped', ('vox_offset', 'vox_offset = 100 is below 352'), gz=True)
    add('vox-offset-zero.nii', patch(base, 108, '<f', 0.0), 'vox_offset 0: nibabel reads the header as voxels; voxseg refuses', ('vox_offset', 'vox_offset = 0 is below 352'))
    add('vox-offset-nan.nii', patch(base, 108, '<f', float('nan')), 'vox_offset NaN', ('vox_offset', 'vox_offset = NaN is not a byte offset'))
    add('vox-offset-past-end.nii', patch(base, 108, '<f', 10000.0), 'vox_offset past the end of the file', ('vox_offset', 'vox_offset = 10000 is past the end'))
    add('vox-offset-data-short.nii', patch(base, 108, '<f', 368.0), 'vox_offset 368 leaves too few bytes for the voxels', ('vox_offset', 'truncated voxel data: expected 416 bytes (vox_offset 368'))
    add('dim0-zero.nii', patch(base, 40, '<h', 0), 'dim[0] = 0 (nibabel: an empty array)', ('dim[0]', 'dim[0] = 0 is not a number of dimensions'))
    add('dim0-eight.nii', patch(base, 40, '<h', 8), 'dim[0] = 8', ('dim[0]', 'dim[0] = 8 is not a number of dimensions'))
    add('dim1-zero.nii', patch(base, 42, '<h', 0), 'dim[1] = 0 (nibabel: an empty array)', ('dim[1]', 'dim[1] = 0 in dimensions [0, 3, 2]'))
    add('dim2-negative.nii.gz', patch(base, 44, '<h', -3), 'dim[2] = -3', ('dim[2]', 'dim[2] = -3 in dimensions [4, -3, 2]'), gz=True)
    add('dims-exceed-data.nii', patch(base, 42, '<h', 400), 'dim[1] = 400: more voxels than the file holds', ('dims', 'truncated voxel data: expected 5152 bytes (vox_offset 352 + 2400 int16 voxels of dims 400x3x2), found 400'))
    huge = patch(patch(patch(patch(base, 42, '<h', 32767), 44, '<h', 32767), 46, '<h', 32767), 70, '<h', 64)
    add('dims-huge-float64.nii', patch(huge, 72, '<h', 64), '32767^3 float64 voxels claimed in 400 bytes: refused before any allocation', ('dims', f'truncated voxel data: expected {352 + 32767 ** 3 * 8} bytes'))
    add('four-d.nii.gz', nifti_bytes(image(np.int16, A_BRATS, SHAPE + (2,))), 'a real 4-D image (nibabel reads it; voxseg needs 3-D)', ('dim[4]', '4-D image with dimensions [4, 3, 2, 2] where a 3-D image is expected (dim[4] = 2)'), gz=True)
    add('datatype-rgb24.nii', patch(patch(base, 70, '<h', 128), 72, '<h', 24), 'datatype 128 (rgb24)', ('datatype', 'unsupported datatype 128 (rgb24)'))
    add('datatype-zero.nii', patch(base, 70, '<h', 0), 'datatype 0', ('datatype', 'unsupported datatype 0 (none)'))
    add('datatype-unknown.nii', patch(base, 70, '<h', 999), 'datatype 999', ('datatype', 'unsupported datatype 999 (unknown)'))
    add('bitpix-mismatch.nii', patch(base, 72, '<h', 8), 'bitpix 8 for int16: nibabel ignores bitpix; voxseg refuses', ('bitpix', 'bitpix = 8 does not match datatype 4 (int16)'))
    add('scl-inter-nan.nii', patch(patch(base, 112, '<f', 2.0), 116, '<f', float('nan')), 'scl_slope 2 with scl_inter NaN (nibabel refuses too)', ('scl_inter', 'scl_inter = NaN with scl_slope = 2'))
    add('scl-inter-inf.nii.gz', patch(patch(base, 112, '<f', 2.0), 116, '<f', float('inf')), 'scl_slope 2 with scl_inter Inf (nibabel refuses too)', ('scl_inter', 'scl_inter = Infinity with scl_slope = 2'), gz=True)
    add('sform-nan.nii', patch(base, 280, '<f', float('nan')), 'srow_x[0] NaN with sform_code 1 (nibabel returns a NaN affine)', ('srow_x', 'srow_x/srow_y/srow_z (sform_code 1): the voxel-to-world affine has NaN or infinite entries'))
    add('qoffset-inf.nii', patch(nifti_bytes(image(np.int16, A_FLIP, qcode=1, scode=0)), 268, '<f', float('inf')), 'qoffset_x Inf with qform_code 1, sform_code 0', ('qoffset', 'quatern_*/qoffset_*/pixdim (qform_code 1): the voxel-to-world affine has NaN'))
    add('sizeof-hdr.nii', patch(base, 0, '<i', 349), 'sizeof_hdr 349: nibabel fixes it; voxseg refuses (it tells the byte order)', ('sizeof_hdr', 'sizeof_hdr = 349'))
    add('magic-pair.nii', patch(base, 344, '4s', b'ni1\0'), 'magic ni1 in a single file', ('magic', 'magic "ni1"'))
    add('magic-bad.nii', patch(base, 344, '4s', b'xyz\0'), 'not a NIfTI magic', ('magic', 'magic "xyz\\x00" at byte 344'))
    add('nifti2.nii', nifti_bytes(nib.Nifti2Image(values(np.int16), EYE)), 'a NIfTI-2 file (nibabel reads it; voxseg supports NIfTI-1)', ('magic', 'NIfTI-2 files are not supported'))
    add('truncated-data.nii', base[:380], 'voxels cut short', ('dims', 'truncated voxel data: expected 400 bytes (vox_offset 352 + 24 int16 voxels of dims 4x3x2), found 380'))
    full = gzip.compress(raw, mtime=0)
    head, tail = gzip.compress(raw[:352], mtime=0), gzip.compress(raw[352:], mtime=0)
    for name, data, note, match in (
        ('gzip-truncated.nii.gz', full[:len(full) // 2], 'gzip cut in the middle', 'truncated gzip data'),
        ('gzip-no-trailer.nii.gz', full[:-8], 'gzip without its CRC/size trailer', 'truncated gzip data'),
        ('gzip-bad-crc.nii.gz', full[:-8] + bytes([full[-8] ^ 0xff]) + full[-7:], 'gzip with a wrong CRC-32', 'corrupt gzip data'),
        ('gzip-second-member-bad.nii.gz', head + tail[:-8] + bytes([tail[-8] ^ 0xff]) + tail[-7:], 'the voxels are in a second member whose CRC-32 is wrong',
         f'corrupt gzip data (gzip member 2 at byte {len(head)}: CRC-32 mismatch)'),
    ):
        add(name, data, note, ('gzip', match))

    with open(os.path.join(OUT, 'corpus.json'), 'w') as f:
        # One case per line: readable diffs when the corpus changes.
        f.write('{"generator": %s,\n "cases": [\n' % json.dumps(f'scripts/make_nifti_corpus.py, nibabel {nib.__version__}, numpy {np.__version__}'))
        f.write(',\n'.join('  ' + json.dumps(c, separators=(',', ':')) for c in cases))
        f.write('\n]}\n')
    for c in cases:
        print(f"{c['file']:40s} {c['bytes']:6d}  nibabel {'reads' if c['nibabel']['reads'] else 'refuses'}  voxseg {'error ' + c['error']['field'] if 'error' in c else 'reads'}")


if __name__ == '__main__':
    main()
