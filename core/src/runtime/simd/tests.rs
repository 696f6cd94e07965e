use super::*;

fn p32(l: [u32; 4]) -> V128 {
    from_u32s(l)
}

#[test]
fn float_min_max_follow_webassembly() {
    // SAFETY: the portable implementation needs no CPU feature.
    unsafe {
        let neg0 = (-0.0f32).to_bits();
        let r = Portable::f32x4_min(p32([0, neg0, 0x7fc0_0000, 1]), p32([neg0, 0, 0, 2]));
        let l = u32s(r);
        assert_eq!(l[0], neg0);
        assert_eq!(l[1], neg0);
        assert!(f32::from_bits(l[2]).is_nan());
        assert_eq!(l[3], 1);
        let l = u32s(Portable::f32x4_max(p32([0, neg0, 0, 0]), p32([neg0, 0, 0, 0])));
        assert_eq!(l[0], 0);
        assert_eq!(l[1], 0);
        // pmin is `b < a ? b : a`: NaN in `a` stays, -0/+0 keep `a`.
        let l = u32s(Portable::f32x4_pmin(p32([0x7fc0_0000, neg0, 0, 0]), p32([0, 0, 0, 0])));
        assert_eq!(l[0], 0x7fc0_0000);
        assert_eq!(l[1], neg0);
    }
}

#[test]
fn integer_edge_cases() {
    // SAFETY: the portable implementation needs no CPU feature.
    unsafe {
        let m = from_i16s([i16::MIN; 8]);
        assert_eq!(i16s(Portable::i16x8_q15mulr_sat_s(m, m)), [i16::MAX; 8]);
        assert_eq!(i32s(Portable::i32x4_dot_i16x8_s(m, m)), [i32::MIN; 4]);
        let big = from_i32s([70000, -70000, 5, -5]);
        assert_eq!(
            i16s(Portable::i16x8_narrow_i32x4_s(big, big))[..4],
            [i16::MAX, i16::MIN, 5, -5]
        );
        assert_eq!(u16s(Portable::i16x8_narrow_i32x4_u(big, big))[..4], [u16::MAX, 0, 5, 0]);
        assert_eq!(u32s(Portable::i32x4_shl(p32([1; 4]), 33)), [2; 4]);
        assert_eq!(
            Portable::i8x16_bitmask(from_i8s([
                -1, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -128
            ])),
            0x8005
        );
        let t = from_f32s([f32::NAN, 3e9, -3e9, -0.9]);
        assert_eq!(i32s(Portable::i32x4_trunc_sat_f32x4_s(t)), [0, i32::MAX, i32::MIN, 0]);
        assert_eq!(u32s(Portable::i32x4_trunc_sat_f32x4_u(t)), [0, 3_000_000_000, 0, 0]);
        let a = from_u8s(core::array::from_fn(|i| i as u8 * 2));
        let idx = from_u8s(core::array::from_fn(|i| if i == 0 { 200 } else { 15 - i as u8 }));
        let s = u8s(Portable::i8x16_swizzle(a, idx));
        assert_eq!((s[0], s[1], s[15]), (0, 28, 0));
    }
}

#[test]
fn portable_agrees_with_itself() {
    // SAFETY: the portable implementation needs no CPU feature.
    unsafe { compare_with_portable::<Portable>(64) }.expect("portable");
}
