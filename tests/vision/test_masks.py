"""Blackout masks, pixel by pixel, on small hand-made images."""
import numpy as np
import torch

from vision.extract import image_versions
from vision.masks import box_pixel_span, boxes_mask, context_only, object_only


def _image(h=5, w=6):
    # distinct non-zero values so a wrongly blacked or kept pixel always shows
    return (torch.arange(3 * h * w, dtype=torch.int64).reshape(3, h, w) % 250 + 1).to(torch.uint8)


def _expected_mask(h, w, rows, cols):
    m = np.zeros((h, w), bool)
    for r in rows:
        for c in cols:
            m[r, c] = True
    return m


def test_fractional_box_covers_every_touched_pixel():
    # x 1.5..3.5 touches columns 1,2,3; y 0.5..1.7 touches rows 0,1
    box = (1.5, 0.5, 2.0, 1.2)
    assert box_pixel_span(box, 5, 6) == (0, 2, 1, 4)
    img = _image()
    expected = _expected_mask(5, 6, rows=[0, 1], cols=[1, 2, 3])
    ctx, obj = context_only(img, [box]), object_only(img, [box])
    for ch in range(3):
        assert (ctx[ch].numpy()[expected] == 0).all()
        assert (ctx[ch].numpy()[~expected] == img[ch].numpy()[~expected]).all()
        assert (obj[ch].numpy()[~expected] == 0).all()
        assert (obj[ch].numpy()[expected] == img[ch].numpy()[expected]).all()


def test_integer_box_ends_before_its_right_edge():
    # floor(1)=1 .. ceil(1+2)-1=2: exactly two rows and two columns
    img = _image()
    m = boxes_mask([(1.0, 1.0, 2.0, 2.0)], 5, 6).numpy()
    assert (m == _expected_mask(5, 6, rows=[1, 2], cols=[1, 2])).all()
    assert (context_only(img, [(1.0, 1.0, 2.0, 2.0)])[:, 1:3, 1:3] == 0).all()
    assert context_only(img, [(1.0, 1.0, 2.0, 2.0)])[:, 3, 3].tolist() == img[:, 3, 3].tolist()


def test_out_of_image_boxes_are_clipped():
    img = _image()
    # starts left of and above the image, ends inside at x=1.2, y=0.4 -> columns 0,1, row 0
    m = boxes_mask([(-3.0, -2.0, 4.2, 2.4)], 5, 6).numpy()
    assert (m == _expected_mask(5, 6, rows=[0], cols=[0, 1])).all()
    # runs past the right and bottom edges
    m = boxes_mask([(4.5, 3.2, 10.0, 10.0)], 5, 6).numpy()
    assert (m == _expected_mask(5, 6, rows=[3, 4], cols=[4, 5])).all()
    # entirely outside: nothing changes, object-only is all black
    assert box_pixel_span((7.0, 0.0, 2.0, 2.0), 5, 6) is None
    assert torch.equal(context_only(img, [(7.0, 0.0, 2.0, 2.0)]), img)
    assert int(object_only(img, [(7.0, 0.0, 2.0, 2.0)]).sum()) == 0


def test_tiny_and_zero_width_boxes():
    assert box_pixel_span((2.0, 1.0, 0.0, 1.0), 5, 6) is None  # zero width touches no pixel
    assert box_pixel_span((2.2, 1.0, 0.1, 1.0), 5, 6) == (1, 2, 2, 3)  # a sliver touches one column


def test_union_of_boxes_and_complementarity():
    img = _image()
    boxes = [(0.0, 0.0, 2.0, 2.0), (3.5, 2.5, 1.0, 2.0), (1.0, 1.0, 2.0, 1.0)]
    m = boxes_mask(boxes, 5, 6)
    expected = _expected_mask(5, 6, rows=[0, 1], cols=[0, 1]) | _expected_mask(5, 6, rows=[2, 3, 4], cols=[3, 4]) \
        | _expected_mask(5, 6, rows=[1], cols=[1, 2])
    assert (m.numpy() == expected).all()
    ctx, obj = context_only(img, boxes), object_only(img, boxes)
    assert torch.equal(ctx + obj, img)  # every pixel is in exactly one of the two versions
    assert torch.equal(img, _image())  # inputs are never modified


def test_image_versions_order_and_skipped_categories():
    img = _image()
    stack, kept = image_versions(img, [(2, [(0.0, 0.0, 1.0, 1.0)]), (0, [(9.0, 9.0, 1.0, 1.0)]),
                                       (1, [(5.0, 4.0, 1.0, 1.0)])])
    assert kept == [2, 1]  # category 0 has no pixel in the image
    assert stack.shape == (5, 3, 5, 6)
    assert torch.equal(stack[0], img)
    assert torch.equal(stack[1], context_only(img, [(0.0, 0.0, 1.0, 1.0)]))
    assert torch.equal(stack[2], object_only(img, [(0.0, 0.0, 1.0, 1.0)]))
    assert torch.equal(stack[3], context_only(img, [(5.0, 4.0, 1.0, 1.0)]))
    assert torch.equal(stack[4], object_only(img, [(5.0, 4.0, 1.0, 1.0)]))
