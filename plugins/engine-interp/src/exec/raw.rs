//! Values on the operand stack are untyped 64-bit slots; [`Raw`] converts.

/// A type stored in an operand stack slot.
pub trait Raw: Copy {
    /// Reads the type from a slot.
    fn from_raw(r: u64) -> Self;
    /// Writes the type to a slot.
    fn to_raw(self) -> u64;
}

impl Raw for i32 {
    #[inline(always)]
    fn from_raw(r: u64) -> Self {
        r as u32 as i32
    }
    #[inline(always)]
    fn to_raw(self) -> u64 {
        u64::from(self as u32)
    }
}
impl Raw for u32 {
    #[inline(always)]
    fn from_raw(r: u64) -> Self {
        r as u32
    }
    #[inline(always)]
    fn to_raw(self) -> u64 {
        u64::from(self)
    }
}
impl Raw for i64 {
    #[inline(always)]
    fn from_raw(r: u64) -> Self {
        r as i64
    }
    #[inline(always)]
    fn to_raw(self) -> u64 {
        self as u64
    }
}
impl Raw for u64 {
    #[inline(always)]
    fn from_raw(r: u64) -> Self {
        r
    }
    #[inline(always)]
    fn to_raw(self) -> u64 {
        self
    }
}
impl Raw for f32 {
    #[inline(always)]
    fn from_raw(r: u64) -> Self {
        f32::from_bits(r as u32)
    }
    #[inline(always)]
    fn to_raw(self) -> u64 {
        u64::from(self.to_bits())
    }
}
impl Raw for f64 {
    #[inline(always)]
    fn from_raw(r: u64) -> Self {
        f64::from_bits(r)
    }
    #[inline(always)]
    fn to_raw(self) -> u64 {
        self.to_bits()
    }
}

/// Widens the immediate of a 32-bit operator.
#[inline(always)]
pub fn imm32(i: i32) -> u64 {
    u64::from(i as u32)
}

/// Widens (sign-extending) the immediate of a 64-bit operator.
#[inline(always)]
pub fn imm64(i: i32) -> u64 {
    i as i64 as u64
}
