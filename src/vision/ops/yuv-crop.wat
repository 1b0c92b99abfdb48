;; The two passes of yuv-crop.ts's bilinear sampler, 8 or 16 pixels per SIMD instruction. The source of
;; yuv-crop.wasm: `npm run build:wasm` assembles it (wabt), and test/vision/yuv-crop.test.ts fails when the
;; committed binary and this text differ. All addresses are byte offsets into the imported memory; yuv-crop.ts
;; lays out planes, tap tables and rows, and pads every region by 16 bytes so that whole-vector loads and
;; stores at a region's end stay inside it.
(module
  (import "env" "memory" (memory 1))

  ;; Horizontal pass: `rows` source rows from `src` (stride `srcStride`), each resampled into `groups` groups
  ;; of 8 output pixels at `dst` (stride `dstStride`). Each group has a 64-byte tap record at `taps`:
  ;;   +0  16 swizzle indices picking the 8 left taps from the 16 source bytes at the group's base
  ;;   +16 16 swizzle indices picking the 8 right taps
  ;;   +32 8 × u16 weights q of the right tap (0..255; the left one weighs 256 − q)
  ;;   +48 i32 the group's base column
  ;; out = (left·(256 − q) + right·q + 128) >> 8, which never exceeds 255 (u16 lanes hold at most 65 408).
  (func (export "hpass") (param $src i32) (param $srcStride i32) (param $rows i32) (param $taps i32)
        (param $groups i32) (param $dst i32) (param $dstStride i32)
    (local $row i32) (local $t i32) (local $d i32) (local $g i32) (local $v v128) (local $q v128)
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $t (local.get $taps))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $row) (local.get $dstStride))))
        (local.set $g (i32.const 0))
        (block $groupsDone
          (loop $groupLoop
            (br_if $groupsDone (i32.ge_u (local.get $g) (local.get $groups)))
            (local.set $v (v128.load (i32.add (local.get $src) (i32.load offset=48 (local.get $t)))))
            (local.set $q (v128.load offset=32 (local.get $t)))
            (v128.store64_lane 0 (local.get $d)
              (i8x16.narrow_i16x8_u
                (i16x8.shr_u
                  (i16x8.add
                    (i16x8.add
                      (i16x8.mul
                        (i16x8.extend_low_i8x16_u (i8x16.swizzle (local.get $v) (v128.load (local.get $t))))
                        (i16x8.sub (i16x8.splat (i32.const 256)) (local.get $q)))
                      (i16x8.mul
                        (i16x8.extend_low_i8x16_u (i8x16.swizzle (local.get $v) (v128.load offset=16 (local.get $t))))
                        (local.get $q)))
                    (i16x8.splat (i32.const 128)))
                  (i32.const 8))
                (v128.const i32x4 0 0 0 0)))
            (local.set $d (i32.add (local.get $d) (i32.const 8)))
            (local.set $t (i32.add (local.get $t) (i32.const 64)))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br $groupLoop)))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop))))

  ;; Vertical pass: for each of `rows` output rows, a 16-byte record at `table` (i32 offset of the upper row
  ;; and of the lower row, relative to `src`; i32 weights a and b, a + b = 256) blends two rows of the
  ;; horizontal pass into `chunks` × 16 output bytes at `dst` (stride `dstStride`). A row's last chunk may
  ;; spill into the next row, which is written after it.
  (func (export "vpass") (param $src i32) (param $table i32) (param $rows i32) (param $chunks i32)
        (param $dst i32) (param $dstStride i32)
    (local $row i32) (local $s0 i32) (local $s1 i32) (local $d i32) (local $k i32)
    (local $a v128) (local $b v128) (local $v0 v128) (local $v1 v128)
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $s0 (i32.add (local.get $src) (i32.load (local.get $table))))
        (local.set $s1 (i32.add (local.get $src) (i32.load offset=4 (local.get $table))))
        (local.set $a (i16x8.splat (i32.load offset=8 (local.get $table))))
        (local.set $b (i16x8.splat (i32.load offset=12 (local.get $table))))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $row) (local.get $dstStride))))
        (local.set $k (i32.const 0))
        (block $chunksDone
          (loop $chunkLoop
            (br_if $chunksDone (i32.ge_u (local.get $k) (local.get $chunks)))
            (local.set $v0 (v128.load (local.get $s0)))
            (local.set $v1 (v128.load (local.get $s1)))
            (v128.store (local.get $d)
              (i8x16.narrow_i16x8_u
                (i16x8.shr_u
                  (i16x8.add
                    (i16x8.add
                      (i16x8.mul (i16x8.extend_low_i8x16_u (local.get $v0)) (local.get $a))
                      (i16x8.mul (i16x8.extend_low_i8x16_u (local.get $v1)) (local.get $b)))
                    (i16x8.splat (i32.const 128)))
                  (i32.const 8))
                (i16x8.shr_u
                  (i16x8.add
                    (i16x8.add
                      (i16x8.mul (i16x8.extend_high_i8x16_u (local.get $v0)) (local.get $a))
                      (i16x8.mul (i16x8.extend_high_i8x16_u (local.get $v1)) (local.get $b)))
                    (i16x8.splat (i32.const 128)))
                  (i32.const 8))))
            (local.set $s0 (i32.add (local.get $s0) (i32.const 16)))
            (local.set $s1 (i32.add (local.get $s1) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $chunkLoop)))
        (local.set $table (i32.add (local.get $table) (i32.const 16)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop))))
)
