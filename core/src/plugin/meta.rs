//! Static plugin descriptions: everything here is `const`-constructible so that
//! `compose!` can check a composition at compile time.

use core::fmt;

/// The slot a plugin fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Slot {
    /// How function bodies execute (exactly one per composition).
    Engine,
    /// How GC objects are allocated and reclaimed (exactly one, once a collector exists).
    Gc,
    /// Which host vector ISA v128 code targets (exactly one, once a backend exists).
    Simd,
    /// Where guest code runs and how memory is isolated (exactly one).
    Virt,
    /// Imported host functions (any number).
    Host,
    /// Typed events: calls, compiles, GC cycles, traps (any number).
    Observer,
    /// Any other plugin linked into the composition (any number).
    Extra,
}

impl Slot {
    /// Every slot, in display order.
    pub const ALL: [Slot; 7] =
        [Slot::Engine, Slot::Gc, Slot::Simd, Slot::Virt, Slot::Host, Slot::Observer, Slot::Extra];

    /// The slot's name as written in `#[plugin(slot = ...)]`, config keys and features.
    pub const fn name(self) -> &'static str {
        match self {
            Slot::Engine => "engine",
            Slot::Gc => "gc",
            Slot::Simd => "simd",
            Slot::Virt => "virt",
            Slot::Host => "host",
            Slot::Observer => "observer",
            Slot::Extra => "extra",
        }
    }

    /// Whether a composition holds exactly one plugin in this slot.
    pub const fn is_singleton(self) -> bool {
        matches!(self, Slot::Engine | Slot::Gc | Slot::Simd | Slot::Virt)
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A semantic version, `const`-constructible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Incompatible changes.
    pub major: u64,
    /// Compatible additions.
    pub minor: u64,
    /// Fixes.
    pub patch: u64,
}

impl Version {
    /// Builds a version.
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self { major, minor, patch }
    }

    /// `self` compared with `other`: -1, 0 or 1 (usable in `const` code).
    pub const fn cmp_const(&self, other: &Version) -> i8 {
        let a = [self.major, self.minor, self.patch];
        let b = [other.major, other.minor, other.patch];
        let mut i = 0;
        while i < 3 {
            if a[i] < b[i] {
                return -1;
            }
            if a[i] > b[i] {
                return 1;
            }
            i += 1;
        }
        0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A capability a plugin provides, at a version (`native-code@1.0.0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// The capability's name (`engine`, `native-code`, `wasi:preview1`, ...).
    pub name: &'static str,
    /// The version of the capability this plugin provides.
    pub version: Version,
}

/// One comparator of a semver requirement, as Cargo reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqOp {
    /// `=1.2.3`
    Exact,
    /// `>1.2.3`
    Greater,
    /// `>=1.2.3`
    GreaterEq,
    /// `<1.2.3`
    Less,
    /// `<=1.2.3`
    LessEq,
    /// `~1.2.3`
    Tilde,
    /// `^1.2.3` (the default)
    Caret,
    /// `*`, `1.*`, `1.2.*`
    Wildcard,
}

/// A capability a plugin requires, with a semver requirement on its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The capability's name.
    pub name: &'static str,
    /// The requirement as written (`^1.2`), for messages.
    pub req: &'static str,
    /// The comparators, all of which must match (`>=1.2, <2`).
    pub comparators: &'static [Comparator],
    /// Plugins the requiring plugin's author suggests as providers, named in the
    /// message when no composed plugin provides the capability (`requires =
    /// [("native-code ^1", ["acme-jit"])]`). vm-core names no provider itself.
    pub suggest: &'static [&'static str],
    /// Whether the provider is initialized (and started) before the requiring
    /// plugin: `true` for `requires`, `false` for `uses` (the capability must be
    /// composed, but the plugin does not rely on its provider's lifecycle, so two
    /// plugins may use each other's capabilities without a cycle).
    pub ordered: bool,
}

/// One comparator of a [`Requirement`]; fields left out in the source (`^1`) are `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comparator {
    /// The operator.
    pub op: ReqOp,
    /// Major version.
    pub major: u64,
    /// Minor version, when written.
    pub minor: Option<u64>,
    /// Patch version, when written.
    pub patch: Option<u64>,
}

impl Comparator {
    /// Whether `v` satisfies this comparator (Cargo's semantics, no pre-releases).
    pub const fn matches(&self, v: &Version) -> bool {
        let minor = match self.minor {
            Some(m) => m,
            None => 0,
        };
        let patch = match self.patch {
            Some(p) => p,
            None => 0,
        };
        let lower = Version::new(self.major, minor, patch);
        match self.op {
            ReqOp::Exact | ReqOp::Wildcard => self.matches_prefix(v),
            ReqOp::Greater => match (self.minor, self.patch) {
                (None, _) => v.major > self.major,
                (Some(m), None) => v.major > self.major || (v.major == self.major && v.minor > m),
                _ => v.cmp_const(&lower) > 0,
            },
            ReqOp::GreaterEq => v.cmp_const(&lower) >= 0,
            ReqOp::Less => v.cmp_const(&lower) < 0,
            ReqOp::LessEq => match (self.minor, self.patch) {
                (None, _) => v.major <= self.major,
                (Some(m), None) => v.major < self.major || (v.major == self.major && v.minor <= m),
                _ => v.cmp_const(&lower) <= 0,
            },
            ReqOp::Tilde => {
                v.cmp_const(&lower) >= 0
                    && v.major == self.major
                    && (self.minor.is_none() || v.minor == minor)
            }
            ReqOp::Caret => {
                if v.cmp_const(&lower) < 0 || v.major != self.major {
                    return false;
                }
                if self.major > 0 || self.minor.is_none() {
                    return true;
                }
                if minor > 0 || self.patch.is_none() {
                    return v.minor == minor;
                }
                v.minor == minor && v.patch == patch
            }
        }
    }

    const fn matches_prefix(&self, v: &Version) -> bool {
        if v.major != self.major {
            return false;
        }
        let minor_ok = match self.minor {
            Some(m) => v.minor == m,
            None => true,
        };
        let patch_ok = match self.patch {
            Some(p) => v.patch == p,
            None => true,
        };
        minor_ok && patch_ok
    }
}

impl Requirement {
    /// Whether `v` satisfies every comparator.
    pub const fn matches(&self, v: &Version) -> bool {
        let mut i = 0;
        while i < self.comparators.len() {
            if !self.comparators[i].matches(v) {
                return false;
            }
            i += 1;
        }
        true
    }
}

/// The type of a config key, for listings and for parsing `-C`/environment values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigType {
    /// `true` or `false`.
    Bool,
    /// A signed or unsigned integer.
    Int,
    /// A floating-point number.
    Float,
    /// A string (enums are strings with a fixed set of values).
    String,
}

impl ConfigType {
    /// The type's name in listings.
    pub const fn name(self) -> &'static str {
        match self {
            ConfigType::Bool => "bool",
            ConfigType::Int => "integer",
            ConfigType::Float => "float",
            ConfigType::String => "string",
        }
    }
}

/// One key of a plugin's config schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigKey {
    /// The key (`fuel`).
    pub name: &'static str,
    /// Its type.
    pub ty: ConfigType,
    /// Its default, as text (`"0"`, `"speed"`).
    pub default: &'static str,
    /// Its valid range or values, as text (`"0..=65536"`, `"none|speed"`), or `""`.
    pub range: &'static str,
    /// Its documentation (the field's doc comment).
    pub doc: &'static str,
}

/// A capability name and what it means: an entry of the vocabulary
/// ([`check::CAPABILITIES`](crate::check::CAPABILITIES) for the project's own, or a
/// plugin's `declares = [...]` for capabilities a plugin crate introduces).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapabilityDef {
    /// The capability's name (`native-code`, `acme:feature`).
    pub name: &'static str,
    /// What providing it promises.
    pub doc: &'static str,
}

impl CapabilityDef {
    /// A capability definition, for `pub const MY_CAP: CapabilityDef = ...;` in a plugin
    /// crate that introduces a capability.
    pub const fn new(name: &'static str, doc: &'static str) -> Self {
        Self { name, doc }
    }
}

/// The static description of a plugin, emitted by `#[plugin(...)]` as `T::META`.
#[derive(Clone, Copy, Debug)]
pub struct PluginMeta {
    /// Unique id (`acme-log`), lower-case kebab-case; by convention also the Cargo feature that links it.
    pub id: &'static str,
    /// The slot it fills.
    pub slot: Slot,
    /// The plugin's version.
    pub version: Version,
    /// One-line description.
    pub description: &'static str,
    /// Capabilities it provides.
    pub provides: &'static [Capability],
    /// Capabilities it requires, with semver requirements.
    pub requires: &'static [Requirement],
    /// Capabilities it introduces beyond the project's vocabulary (its `declares`).
    pub declares: &'static [CapabilityDef],
    /// Its config schema.
    pub config: &'static [ConfigKey],
}
