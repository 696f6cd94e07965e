//! Build-time checks of a composition, evaluated in `const` context by the code that
//! `compose!` emits. A failed check is a `const` panic whose message names the plugins,
//! the capability and what would fix it; the same evaluation yields the init order.
//!
//! `const` code cannot format, compare `&str` with `==` or index `&str`, so messages are
//! built byte by byte in a fixed buffer ([`Msg`]) and names are compared as bytes.

use crate::plugin::{CapabilityDef, PluginMeta, Requirement};

/// The project's capability vocabulary: names and meanings. Who provides a capability
/// is not written here: it comes from the registry (`vm plugins`, features.md) and, in
/// compile errors, from the composed plugins and the requiring plugin's suggestions.
/// A plugin crate may introduce a capability of its own with `declares = [...]`
/// (see [`CapabilityDef`]); every other name is a typo, caught when that plugin's crate
/// is built ([`check_vocabulary`]).
pub const CAPABILITIES: &[CapabilityDef] = &[
    CapabilityDef::new("engine", "executes WebAssembly function bodies"),
    CapabilityDef::new(
        "interpreter",
        "executes an internal bytecode without generating machine code",
    ),
    CapabilityDef::new("native-code", "generates host machine code for function bodies"),
    CapabilityDef::new("virt", "places linear memory and runs guest code"),
    CapabilityDef::new(
        "guard-pages",
        "linear memory reserved with guard regions (bounds checks may be elided)",
    ),
    CapabilityDef::new("isolation:kvm", "guest code runs inside a hardware-virtualized micro-VM"),
    CapabilityDef::new(
        "wasi:preview1",
        "the WASI preview1 host interface (`wasi_snapshot_preview1`)",
    ),
    CapabilityDef::new("wasi:preview0", "the WASI preview0 host interface (`wasi_unstable`)"),
    CapabilityDef::new("gc", "allocates and reclaims GC objects"),
    CapabilityDef::new("roots:precise", "the engine reports exact stack roots to the collector"),
    CapabilityDef::new("simd", "executes simd128 instructions"),
    CapabilityDef::new("simd:scalar", "simd128 lanes computed by portable per-lane code"),
    CapabilityDef::new("simd:sse4.1", "simd128 lowered to SSE4.1 instructions"),
    CapabilityDef::new("simd:avx2", "simd128 lowered to AVX2 (VEX-encoded) instructions"),
    CapabilityDef::new("pic", "generated code is position independent"),
    CapabilityDef::new("observer", "receives runtime events (calls, traps, lifecycle)"),
];

/// A message under construction in a fixed buffer (`const`-friendly).
#[derive(Clone, Copy)]
pub struct Msg {
    buf: [u8; 2048],
    len: usize,
}

impl Msg {
    /// An empty message.
    pub const fn new() -> Self {
        Self { buf: [0; 2048], len: 0 }
    }

    /// Appends text (truncated, on a char boundary, when the buffer is full).
    pub const fn push(mut self, s: &str) -> Self {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() && self.len < self.buf.len() - 4 {
            self.buf[self.len] = b[i];
            self.len += 1;
            i += 1;
        }
        // Do not leave half a UTF-8 sequence behind.
        while self.len > 0 && (self.buf[self.len - 1] & 0xC0) == 0x80 && i < b.len() {
            self.len -= 1;
        }
        self
    }

    /// Appends a decimal number.
    pub const fn push_u64(mut self, mut n: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut d = 0;
        loop {
            digits[d] = b'0' + (n % 10) as u8;
            d += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while d > 0 && self.len < self.buf.len() {
            d -= 1;
            self.buf[self.len] = digits[d];
            self.len += 1;
        }
        self
    }

    /// The text so far.
    pub const fn as_str(&self) -> &str {
        let (bytes, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => "(message not UTF-8)",
        }
    }
}

impl Default for Msg {
    fn default() -> Self {
        Self::new()
    }
}

/// Byte-wise string equality for `const` code.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Levenshtein distance of two byte strings (names up to 63 bytes; longer names
/// compare as far apart).
pub const fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    if a.len() >= 64 || b.len() >= 64 {
        return usize::MAX / 2;
    }
    let mut prev = [0usize; 64];
    let mut cur = [0usize; 64];
    let mut j = 0;
    while j <= b.len() {
        prev[j] = j;
        j += 1;
    }
    let mut i = 1;
    while i <= a.len() {
        cur[0] = i;
        let mut j = 1;
        while j <= b.len() {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { 1 };
            let del = prev[j] + 1;
            let ins = cur[j - 1] + 1;
            let sub = prev[j - 1] + cost;
            let mut m = if del < ins { del } else { ins };
            if sub < m {
                m = sub;
            }
            cur[j] = m;
            j += 1;
        }
        prev = cur;
        i += 1;
    }
    prev[b.len()]
}

/// The vocabulary entry for `name`: the project's, or one declared by a plugin in
/// `plugins`.
const fn known<'a>(plugins: &[&'a PluginMeta], name: &str) -> Option<&'a CapabilityDef> {
    let mut i = 0;
    while i < CAPABILITIES.len() {
        if str_eq(CAPABILITIES[i].name, name) {
            return Some(&CAPABILITIES[i]);
        }
        i += 1;
    }
    let mut j = 0;
    while j < plugins.len() {
        let mut k = 0;
        while k < plugins[j].declares.len() {
            if str_eq(plugins[j].declares[k].name, name) {
                return Some(&plugins[j].declares[k]);
            }
            k += 1;
        }
        j += 1;
    }
    None
}

/// The nearest vocabulary name to `name` (the project's and `meta`'s declared ones),
/// when it is close enough to be a typo.
const fn nearest(meta: &PluginMeta, name: &str) -> Option<&'static str> {
    let mut best: Option<&'static str> = None;
    let mut best_d = usize::MAX;
    let mut i = 0;
    while i < CAPABILITIES.len() {
        let d = edit_distance(name.as_bytes(), CAPABILITIES[i].name.as_bytes());
        if d < best_d {
            best_d = d;
            best = Some(CAPABILITIES[i].name);
        }
        i += 1;
    }
    let mut k = 0;
    while k < meta.declares.len() {
        let d = edit_distance(name.as_bytes(), meta.declares[k].name.as_bytes());
        if d < best_d {
            best_d = d;
            best = Some(meta.declares[k].name);
        }
        k += 1;
    }
    if best_d <= 3 { best } else { None }
}

/// Checks that every capability a plugin provides or requires is in the vocabulary
/// (the project's [`CAPABILITIES`] or the plugin's own `declares`). `#[plugin]` emits
/// this as a `const` item, so a misspelt name fails the plugin crate's own build, with
/// the nearest name and how to declare a new one.
pub const fn check_vocabulary(meta: &PluginMeta) {
    let me: [&PluginMeta; 1] = [meta];
    let mut i = 0;
    while i < meta.provides.len() {
        if known(&me, meta.provides[i].name).is_none() {
            unknown_name(meta, meta.provides[i].name, "provides");
        }
        i += 1;
    }
    let mut r = 0;
    while r < meta.requires.len() {
        if known(&me, meta.requires[r].name).is_none() {
            unknown_name(meta, meta.requires[r].name, "requires");
        }
        r += 1;
    }
}

const fn unknown_name(meta: &PluginMeta, name: &str, key: &str) -> ! {
    let mut m = Msg::new()
        .push("unknown capability `")
        .push(name)
        .push("` in `")
        .push(key)
        .push("` of plugin `")
        .push(meta.id)
        .push("`: it is not in vm-core's vocabulary (`vm_core::check::CAPABILITIES`) and the plugin does not declare it");
    if let Some(b) = nearest(meta, name) {
        m = m.push("; did you mean `").push(b).push("`?");
    }
    fail(m
        .push(" To introduce a new capability, define it in the plugin crate, `pub const CAP: vm_core::plugin::CapabilityDef = vm_core::plugin::CapabilityDef::new(\"")
        .push(name)
        .push("\", \"what it means\");`, and add `declares = [CAP]` to `#[plugin(...)]`"))
}

/// Whether plugin `p` provides capability `name` (any version).
const fn provides(p: &PluginMeta, name: &str) -> bool {
    let mut k = 0;
    while k < p.provides.len() {
        if str_eq(p.provides[k].name, name) {
            return true;
        }
        k += 1;
    }
    false
}

/// Whether plugin `p` provides `req` at a matching version.
const fn satisfies(p: &PluginMeta, req: &Requirement) -> bool {
    let mut k = 0;
    while k < p.provides.len() {
        if str_eq(p.provides[k].name, req.name) && req.matches(&p.provides[k].version) {
            return true;
        }
        k += 1;
    }
    false
}

const fn fail(msg: Msg) -> ! {
    panic!("{}", msg.as_str())
}

const fn push_version(m: Msg, v: &crate::plugin::Version) -> Msg {
    m.push_u64(v.major).push(".").push_u64(v.minor).push(".").push_u64(v.patch)
}

/// Checks every rule and returns the init order. Panics (a compile error when
/// evaluated in a `const`) on a duplicate id, an unknown or unmet capability, a semver
/// mismatch or a dependency cycle.
pub const fn check<const N: usize>(plugins: &[&PluginMeta]) -> [usize; N] {
    if plugins.len() != N {
        fail(Msg::new().push("internal: plugin count does not match the composition"));
    }
    check_duplicates(plugins);
    check_requirements(plugins);
    init_order::<N>(plugins)
}

const fn check_duplicates(plugins: &[&PluginMeta]) {
    let mut i = 0;
    while i < plugins.len() {
        let mut j = i + 1;
        while j < plugins.len() {
            if str_eq(plugins[i].id, plugins[j].id) {
                fail(Msg::new()
                    .push("duplicate plugin id `")
                    .push(plugins[i].id)
                    .push("`: the composition lists it twice (in slots `")
                    .push(plugins[i].slot.name())
                    .push("` and `")
                    .push(plugins[j].slot.name())
                    .push("`); plugin ids must be unique: remove one of them from `compose!`, or give one plugin another `id`"));
            }
            j += 1;
        }
        i += 1;
    }
}

const fn check_requirements(plugins: &[&PluginMeta]) {
    let mut i = 0;
    while i < plugins.len() {
        let p = plugins[i];
        let mut r = 0;
        while r < p.requires.len() {
            let req = &p.requires[r];
            let mut met = false;
            let mut any_version = false;
            let mut j = 0;
            while j < plugins.len() {
                if j != i {
                    if satisfies(plugins[j], req) {
                        met = true;
                    }
                    if provides(plugins[j], req.name) {
                        any_version = true;
                    }
                }
                j += 1;
            }
            if !met {
                if any_version {
                    semver_mismatch(plugins, p, req);
                }
                match known(plugins, req.name) {
                    Some(_) => unmet(plugins, p, req),
                    None => unknown(plugins, p, req),
                }
            }
            r += 1;
        }
        i += 1;
    }
}

const fn semver_mismatch(plugins: &[&PluginMeta], p: &PluginMeta, req: &Requirement) -> ! {
    let mut m = Msg::new()
        .push("version mismatch: plugin `")
        .push(p.id)
        .push("` requires capability `")
        .push(req.name)
        .push("` ")
        .push(req.req)
        .push(", but");
    let mut j = 0;
    while j < plugins.len() {
        let q = plugins[j];
        let mut k = 0;
        while k < q.provides.len() {
            if str_eq(q.provides[k].name, req.name) {
                m = m.push(" plugin `").push(q.id).push("` provides `").push(req.name).push("` ");
                m = push_version(m, &q.provides[k].version).push(";");
            }
            k += 1;
        }
        j += 1;
    }
    fail(
        m.push(" compose a version of the provider that matches ")
            .push(req.req)
            .push(", or relax the requirement in `")
            .push(p.id)
            .push("`"),
    )
}

const fn unmet(plugins: &[&PluginMeta], p: &PluginMeta, req: &Requirement) -> ! {
    let mut m = Msg::new()
        .push("unmet capability: plugin `")
        .push(p.id)
        .push("` (slot `")
        .push(p.slot.name())
        .push("`) requires `")
        .push(req.name)
        .push("` ")
        .push(req.req)
        .push(", but no plugin in this composition provides it (");
    let mut j = 0;
    let mut listed = 0;
    while j < plugins.len() {
        let q = plugins[j];
        if !str_eq(q.id, p.id) {
            if listed > 0 {
                m = m.push("; ");
            }
            m = m.push("`").push(q.id).push("` in slot `").push(q.slot.name()).push("` provides ");
            if q.provides.is_empty() {
                m = m.push("nothing");
            }
            let mut c = 0;
            while c < q.provides.len() {
                if c > 0 {
                    m = m.push(", ");
                }
                m = m.push("`").push(q.provides[c].name).push("`");
                c += 1;
            }
            listed += 1;
        }
        j += 1;
    }
    m = m.push("); ");
    if req.suggest.is_empty() {
        m = m
            .push("compose a plugin that provides `")
            .push(req.name)
            .push("` (`vm plugins` lists what each linked plugin provides)");
    } else {
        m = m.push("plugins that provide `").push(req.name).push("`: ");
        let mut i = 0;
        while i < req.suggest.len() {
            if i > 0 {
                m = m.push(", ");
            }
            m = m.push("`").push(req.suggest[i]).push("`");
            i += 1;
        }
        m = m.push(" (enable one of their features in place of the plugin now in that slot)");
    }
    fail(m.push(", or remove `").push(p.id).push("`"))
}

const fn unknown(plugins: &[&PluginMeta], p: &PluginMeta, req: &Requirement) -> ! {
    let mut best: Option<&str> = None;
    let mut best_d = usize::MAX;
    let mut i = 0;
    while i < CAPABILITIES.len() {
        let d = edit_distance(req.name.as_bytes(), CAPABILITIES[i].name.as_bytes());
        if d < best_d {
            best_d = d;
            best = Some(CAPABILITIES[i].name);
        }
        i += 1;
    }
    let mut j = 0;
    while j < plugins.len() {
        let mut k = 0;
        while k < plugins[j].provides.len() {
            let name = plugins[j].provides[k].name;
            let d = edit_distance(req.name.as_bytes(), name.as_bytes());
            if d < best_d {
                best_d = d;
                best = Some(name);
            }
            k += 1;
        }
        j += 1;
    }
    let mut m = Msg::new()
        .push("unknown capability `")
        .push(req.name)
        .push("` required by plugin `")
        .push(p.id)
        .push("`: no composed plugin provides it and it is not a known capability");
    if let Some(b) = best
        && best_d <= 3
    {
        m = m.push("; did you mean `").push(b).push("`?");
    }
    fail(m)
}

/// A topological order of the plugins: every provider before the plugins that
/// require it; ties keep the composition's order. Panics with the cycle when there is
/// one.
pub const fn init_order<const N: usize>(plugins: &[&PluginMeta]) -> [usize; N] {
    let mut order = [0usize; N];
    let mut placed = [false; N];
    let mut count = 0;
    while count < N {
        let mut progress = false;
        let mut i = 0;
        while i < N {
            if !placed[i] && blocker(plugins, i, &placed).is_none() {
                placed[i] = true;
                order[count] = i;
                count += 1;
                progress = true;
                // Restart so earlier plugins keep priority.
                break;
            }
            i += 1;
        }
        if !progress {
            report_cycle(plugins, &placed);
        }
    }
    order
}

/// The first unplaced provider that plugin `i` waits on, with the index of the
/// requirement; `None` when every provider it needs is placed.
const fn blocker<const N: usize>(
    plugins: &[&PluginMeta],
    i: usize,
    placed: &[bool; N],
) -> Option<(usize, usize)> {
    let p = plugins[i];
    let mut r = 0;
    while r < p.requires.len() {
        if !p.requires[r].ordered {
            r += 1;
            continue;
        }
        let mut j = 0;
        while j < N {
            if j != i && !placed[j] && satisfies(plugins[j], &p.requires[r]) {
                return Some((j, r));
            }
            j += 1;
        }
        r += 1;
    }
    None
}

const fn report_cycle<const N: usize>(plugins: &[&PluginMeta], placed: &[bool; N]) -> ! {
    // Start anywhere unplaced; follow blockers until a plugin repeats.
    let mut start = 0;
    while start < N && placed[start] {
        start += 1;
    }
    let mut seen = [false; N];
    let mut cur = start;
    while !seen[cur] {
        seen[cur] = true;
        cur = match blocker(plugins, cur, placed) {
            Some((next, _)) => next,
            None => cur,
        };
    }
    // `cur` is on the cycle: print it once around.
    let first = cur;
    let mut m = Msg::new().push("dependency cycle: ");
    while let Some((next, r)) = blocker(plugins, cur, placed) {
        m = m
            .push("`")
            .push(plugins[cur].id)
            .push("` requires `")
            .push(plugins[cur].requires[r].name)
            .push("` from `")
            .push(plugins[next].id)
            .push("`");
        cur = next;
        if cur == first {
            break;
        }
        m = m.push(" -> ");
    }
    fail(
        m.push(
            "; no init order exists: drop one of these requirements or compose another provider",
        ),
    )
}

#[cfg(test)]
mod tests;
