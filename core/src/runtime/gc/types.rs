//! The GC proposal's type system: struct and array definitions with packed and
//! mutable fields, recursion groups canonicalized for the process, declared
//! supertypes and `final`, and subtype checks in constant time.
//!
//! # Canonical ids
//!
//! Every defined type has a process-wide canonical id ([`HeapType::Concrete`]): two
//! types have the same id exactly when they are the same type of the same
//! canonical recursion group. A group's identity is its canonical form, in which a
//! reference to a member of the same group is its index in the group and any other
//! reference is the id of the type it names; the same types in a different order are a
//! different group. A group of one final function type with no supertype keeps the
//! form of its [`FuncType`] (so modules without GC types, and host function types,
//! get the ids they always had). The members of one group get consecutive ids.
//!
//! Each id has a [`TypeInfo`], never freed (a process holds as many as the distinct
//! groups it decoded): its composite type, its `final` flag and the ids of its
//! supertype chain, root first, so `a <: b` is `a.supers.get(b.depth()) == Some(b.id)`
//! ([`TypeInfo::is_subtype_of`]). Objects point to the `TypeInfo` of their type (see
//! [`super::object`]), so casts read no lock.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, RwLock};

use crate::runtime::ValType;
use crate::runtime::error::DecodeError;
use crate::runtime::types::{FuncType, HeapType, RefType};

/// How a field is stored: packed 8 or 16 bits (read as `i32` with sign or zero
/// extension), or a value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageType {
    /// `i8` (packed).
    I8,
    /// `i16` (packed).
    I16,
    /// A value type; a reference's precise type is [`FieldType::refty`].
    Val(ValType),
}

impl StorageType {
    /// Bytes a field of this type takes in an object.
    pub const fn size(self) -> u32 {
        match self {
            StorageType::I8 => 1,
            StorageType::I16 => 2,
            StorageType::Val(ValType::I32 | ValType::F32) => 4,
            StorageType::Val(ValType::V128) => 16,
            StorageType::Val(_) => 8,
        }
    }

    /// Whether fields of this type hold references (the collector traces them).
    pub const fn is_ref(self) -> bool {
        matches!(self, StorageType::Val(t) if t.is_ref())
    }

    /// The type a field of this storage type has on the operand stack.
    pub const fn unpacked(self) -> ValType {
        match self {
            StorageType::I8 | StorageType::I16 => ValType::I32,
            StorageType::Val(t) => t,
        }
    }
}

/// A struct field or an array's element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldType {
    /// How it is stored.
    pub storage: StorageType,
    /// The precise type of a reference field (`None` for other fields).
    pub refty: Option<RefType>,
    /// Whether `struct.set`/`array.set` (and the bulk array writes) may change it.
    pub mutable: bool,
}

/// What a defined type is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompositeType {
    /// A function type.
    Func(FuncType),
    /// A struct type: its fields in order.
    Struct(Box<[FieldType]>),
    /// An array type: its element type.
    Array(FieldType),
}

/// Where each field of a struct type lives in an object of that type, after the
/// [`super::object::ObjectHeader`]: fields in declaration order, each aligned to its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructLayout {
    /// Byte offset of each field from the start of the object.
    pub offsets: Box<[u32]>,
    /// Bytes of an object of the type (header included, a multiple of 8).
    pub size: u32,
    /// Byte offsets of the reference fields (what the collector traces).
    pub refs: Box<[u32]>,
}

/// A canonical defined type: the run-time view of one [`HeapType::Concrete`] id.
#[derive(Debug)]
pub struct TypeInfo {
    /// The canonical id.
    pub id: u32,
    /// Whether the type may have no subtypes.
    pub is_final: bool,
    /// The composite type (references in it by canonical id).
    pub composite: CompositeType,
    /// The supertype chain, root first, ending with `id`.
    pub supers: Box<[u32]>,
    /// The field layout of a struct type (`None` otherwise).
    pub layout: Option<StructLayout>,
}

impl TypeInfo {
    /// The length of the supertype chain above this type.
    #[inline]
    pub fn depth(&self) -> usize {
        self.supers.len() - 1
    }

    /// Whether this type is `other` or one of its declared subtypes (transitively).
    #[inline]
    pub fn is_subtype_of(&self, other: &TypeInfo) -> bool {
        self.supers.get(other.depth()) == Some(&other.id)
    }

    /// The abstract heap type above this one: `func`, `struct` or `array`.
    pub fn top_kind(&self) -> HeapType {
        match self.composite {
            CompositeType::Func(_) => HeapType::Func,
            CompositeType::Struct(_) => HeapType::Struct,
            CompositeType::Array(_) => HeapType::Array,
        }
    }

    /// The struct's fields (empty for other types).
    pub fn fields(&self) -> &[FieldType] {
        match &self.composite {
            CompositeType::Struct(f) => f,
            _ => &[],
        }
    }

    /// The array's element type (`None` for other types).
    pub fn element(&self) -> Option<FieldType> {
        match self.composite {
            CompositeType::Array(f) => Some(f),
            _ => None,
        }
    }
}

/// Lays out a struct's fields after the object header.
fn struct_layout(fields: &[FieldType]) -> StructLayout {
    let mut at = super::object::HEADER_SIZE as u32;
    let mut offsets = Vec::with_capacity(fields.len());
    let mut refs = Vec::new();
    for f in fields {
        let size = f.storage.size();
        let align = size.min(8);
        at = at.next_multiple_of(align);
        offsets.push(at);
        if f.storage.is_ref() {
            refs.push(at);
        }
        at += size;
    }
    StructLayout { offsets: offsets.into(), size: at.next_multiple_of(8), refs: refs.into() }
}

/// The process's canonical types: group forms to the first id of the group, and
/// each id's [`TypeInfo`].
#[derive(Default)]
struct Registry {
    groups: HashMap<Box<[u8]>, u32>,
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

/// Every id's type, by id (appended under the registry lock, read under this one).
fn infos() -> &'static RwLock<Vec<&'static TypeInfo>> {
    static INFOS: OnceLock<RwLock<Vec<&'static TypeInfo>>> = OnceLock::new();
    INFOS.get_or_init(Default::default)
}

/// The type of canonical id `id` (`None` for an id no decoded type has).
pub fn info(id: u32) -> Option<&'static TypeInfo> {
    infos().read().unwrap_or_else(|e| e.into_inner()).get(id as usize).copied()
}

/// Publishes the types of a new group, in id order.
fn publish(new: Vec<TypeInfo>) {
    let mut all = infos().write().unwrap_or_else(|e| e.into_inner());
    for t in new {
        debug_assert_eq!(t.id as usize, all.len());
        all.push(Box::leak(Box::new(t)));
    }
}

/// The canonical id of a lone final function type with no supertype, whose canonical
/// form is `form` (see [`FuncType::canonical`]).
pub(crate) fn func_id(form: &[u8], ty: &FuncType) -> u32 {
    let mut reg = registry();
    if let Some(&id) = reg.groups.get(form) {
        return id;
    }
    let id = infos().read().unwrap_or_else(|e| e.into_inner()).len() as u32;
    reg.groups.insert(form.into(), id);
    publish(vec![TypeInfo {
        id,
        is_final: true,
        composite: CompositeType::Func(ty.clone()),
        supers: Box::new([id]),
        layout: None,
    }]);
    id
}

/// A canonical form's prefix that no function type's form has (those start with a
/// parameter count, at most 1,000).
const GROUP_PREFIX: [u8; 5] = [0xff; 5];

/// Where a reference in a group's form points.
const REF_ABS: u8 = 0xfe;
const REF_REL: u8 = 0xfd;

/// Form byte of an abstract heap type (its binary encoding).
pub(crate) fn abstract_code(h: HeapType) -> u8 {
    match h {
        HeapType::Func => 0x70,
        HeapType::Extern => 0x6f,
        HeapType::Exn => 0x69,
        HeapType::Any => 0x6e,
        HeapType::Eq => 0x6d,
        HeapType::I31 => 0x6c,
        HeapType::Struct => 0x6b,
        HeapType::Array => 0x6a,
        HeapType::None => 0x71,
        HeapType::NoFunc => 0x73,
        HeapType::NoExtern => 0x72,
        HeapType::NoExn => 0x74,
        HeapType::Concrete(_) => REF_ABS,
    }
}

/// A reference inside a group being defined: resolved, or to member `k` of the group.
#[derive(Clone, Copy)]
enum GroupRef {
    Ref(RefType),
    Member { nullable: bool, k: u32 },
}

/// Decodes the recursion groups of a type section: the canonical ids of the module's
/// types so far are `ids` (a group's types are appended to it).
struct GroupDecoder<'a> {
    ids: &'a [u32],
    /// The module index of the group's first type.
    base: u32,
    /// Its type count.
    len: u32,
    offset: u64,
}

impl GroupDecoder<'_> {
    fn heap(&self, r: wasmparser::RefType) -> Result<GroupRef, DecodeError> {
        use wasmparser::{HeapType as H, UnpackedIndex};
        let nullable = r.is_nullable();
        Ok(match r.heap_type() {
            H::Concrete(UnpackedIndex::Module(i)) if i >= self.base && i < self.base + self.len => {
                GroupRef::Member { nullable, k: i - self.base }
            }
            H::Concrete(UnpackedIndex::RecGroup(k)) if k < self.len => {
                GroupRef::Member { nullable, k }
            }
            _ => GroupRef::Ref(RefType::of_wasmparser(r, self.ids, self.offset)?),
        })
    }

    fn push_val(&self, form: &mut Vec<u8>, t: wasmparser::ValType) -> Result<(), DecodeError> {
        match t {
            wasmparser::ValType::I32 => form.push(0x7f),
            wasmparser::ValType::I64 => form.push(0x7e),
            wasmparser::ValType::F32 => form.push(0x7d),
            wasmparser::ValType::F64 => form.push(0x7c),
            wasmparser::ValType::V128 => form.push(0x7b),
            wasmparser::ValType::Ref(r) => match self.heap(r)? {
                GroupRef::Ref(r) => {
                    form.push(if r.nullable { 0x63 } else { 0x64 });
                    form.push(abstract_code(r.heap));
                    if let HeapType::Concrete(id) = r.heap {
                        form.extend(id.to_le_bytes());
                    }
                }
                GroupRef::Member { nullable, k } => {
                    form.push(if nullable { 0x63 } else { 0x64 });
                    form.push(REF_REL);
                    form.extend(k.to_le_bytes());
                }
            },
        }
        Ok(())
    }

    fn push_field(&self, form: &mut Vec<u8>, f: &wasmparser::FieldType) -> Result<(), DecodeError> {
        form.push(u8::from(f.mutable));
        match f.element_type {
            wasmparser::StorageType::I8 => form.push(0x78),
            wasmparser::StorageType::I16 => form.push(0x77),
            wasmparser::StorageType::Val(t) => self.push_val(form, t)?,
        }
        Ok(())
    }

    fn form(&self, group: &[wasmparser::SubType]) -> Result<Vec<u8>, DecodeError> {
        use wasmparser::CompositeInnerType as C;
        let mut form = GROUP_PREFIX.to_vec();
        form.extend(self.len.to_le_bytes());
        for sub in group {
            if sub.composite_type.shared {
                return Err(DecodeError::unsupported("shared-everything-threads", self.offset));
            }
            form.push(u8::from(sub.is_final));
            match sub.supertype_idxs.first().map(|s| s.unpack()) {
                None => form.push(0),
                Some(s) => match s {
                    wasmparser::UnpackedIndex::Module(i)
                        if i >= self.base && i < self.base + self.len =>
                    {
                        form.push(REF_REL);
                        form.extend((i - self.base).to_le_bytes());
                    }
                    wasmparser::UnpackedIndex::Module(i) => {
                        let id = self.id_of(i)?;
                        form.push(REF_ABS);
                        form.extend(id.to_le_bytes());
                    }
                    _ => return Err(DecodeError::unsupported("gc", self.offset)),
                },
            }
            match &sub.composite_type.inner {
                C::Func(f) => {
                    form.push(0x60);
                    form.extend((f.params().len() as u32).to_le_bytes());
                    for &t in f.params() {
                        self.push_val(&mut form, t)?;
                    }
                    form.extend((f.results().len() as u32).to_le_bytes());
                    for &t in f.results() {
                        self.push_val(&mut form, t)?;
                    }
                }
                C::Struct(s) => {
                    form.push(0x5f);
                    form.extend((s.fields.len() as u32).to_le_bytes());
                    for f in s.fields.iter() {
                        self.push_field(&mut form, f)?;
                    }
                }
                C::Array(a) => {
                    form.push(0x5e);
                    self.push_field(&mut form, &a.0)?;
                }
                C::Cont(_) => return Err(DecodeError::unsupported("stack-switching", self.offset)),
            }
        }
        Ok(form)
    }

    fn id_of(&self, i: u32) -> Result<u32, DecodeError> {
        self.ids.get(i as usize).copied().ok_or_else(|| DecodeError::unsupported("gc", self.offset))
    }

    /// A reference's precise type once the group's first id is `first`.
    fn resolve(&self, r: wasmparser::RefType, first: u32) -> Result<RefType, DecodeError> {
        Ok(match self.heap(r)? {
            GroupRef::Ref(r) => r,
            GroupRef::Member { nullable, k } => {
                RefType { nullable, heap: HeapType::Concrete(first + k) }
            }
        })
    }

    fn val(
        &self,
        t: wasmparser::ValType,
        first: u32,
        group: &[wasmparser::SubType],
    ) -> Result<(ValType, Option<RefType>), DecodeError> {
        Ok(match t {
            wasmparser::ValType::Ref(r) => {
                let rt = self.resolve(r, first)?;
                let repr = match rt.heap {
                    HeapType::Concrete(id) if id >= first => {
                        match group.get((id - first) as usize).map(|s| &s.composite_type.inner) {
                            Some(wasmparser::CompositeInnerType::Func(_)) => ValType::FuncRef,
                            _ => ValType::AnyRef,
                        }
                    }
                    _ => rt.repr(),
                };
                (repr, Some(rt))
            }
            t => (ValType::from_wasmparser(t, self.ids, self.offset)?, None),
        })
    }

    fn field(
        &self,
        f: &wasmparser::FieldType,
        first: u32,
        group: &[wasmparser::SubType],
    ) -> Result<FieldType, DecodeError> {
        let (storage, refty) = match f.element_type {
            wasmparser::StorageType::I8 => (StorageType::I8, None),
            wasmparser::StorageType::I16 => (StorageType::I16, None),
            wasmparser::StorageType::Val(t) => {
                let (t, r) = self.val(t, first, group)?;
                (StorageType::Val(t), r)
            }
        };
        Ok(FieldType { storage, refty, mutable: f.mutable })
    }
}

/// Canonicalizes one recursion group of a module's type section: `ids` are the
/// canonical ids of the types before it. Returns each member's id and, for function
/// types, its [`FuncType`] (whose equality is that of the canonical type).
///
/// # Errors
/// A type of a proposal beyond GC (shared types, continuations).
pub(crate) fn decode_group(
    group: &[wasmparser::SubType],
    ids: &[u32],
    offset: u64,
) -> Result<Vec<(u32, Option<FuncType>)>, DecodeError> {
    let d = GroupDecoder { ids, base: ids.len() as u32, len: group.len() as u32, offset };
    let form = d.form(group)?;
    let mut reg = registry();
    let existing = reg.groups.get(form.as_slice()).copied();
    let first = match existing {
        Some(first) => first,
        None => infos().read().unwrap_or_else(|e| e.into_inner()).len() as u32,
    };
    // Each member's function type (its canonical form is the group's plus its index).
    let mut out = Vec::with_capacity(group.len());
    let mut new = Vec::new();
    // Function members' forms, so that `FuncType::canonical` of a member is its id.
    let mut members = Vec::new();
    for (k, sub) in group.iter().enumerate() {
        let id = first + k as u32;
        let composite = match &sub.composite_type.inner {
            wasmparser::CompositeInnerType::Func(f) => {
                let conv = |ts: &[wasmparser::ValType]| {
                    ts.iter().map(|&t| d.val(t, first, group)).collect::<Result<Vec<_>, _>>()
                };
                let (params, results) = (conv(f.params())?, conv(f.results())?);
                let mut member = form.clone();
                member.extend((k as u32).to_le_bytes());
                members.push((member.clone(), id));
                CompositeType::Func(FuncType::with_form(
                    params.iter().map(|p| p.0).collect(),
                    results.iter().map(|r| r.0).collect(),
                    member.into(),
                ))
            }
            wasmparser::CompositeInnerType::Struct(s) => CompositeType::Struct(
                s.fields.iter().map(|f| d.field(f, first, group)).collect::<Result<_, _>>()?,
            ),
            wasmparser::CompositeInnerType::Array(a) => {
                CompositeType::Array(d.field(&a.0, first, group)?)
            }
            wasmparser::CompositeInnerType::Cont(_) => {
                return Err(DecodeError::unsupported("stack-switching", offset));
            }
        };
        out.push((
            id,
            match &composite {
                CompositeType::Func(f) => Some(f.clone()),
                _ => None,
            },
        ));
        if existing.is_some() {
            continue;
        }
        let mut supers: Vec<u32> =
            match sub.supertype_idxs.first().and_then(|s| s.as_module_index()) {
                Some(i) if i >= d.base => {
                    let k = (i - d.base) as usize;
                    let parent: &TypeInfo =
                        new.get(k).ok_or_else(|| DecodeError::unsupported("gc", offset))?;
                    parent.supers.to_vec()
                }
                Some(i) => info(d.id_of(i)?)
                    .map(|p| p.supers.to_vec())
                    .ok_or_else(|| DecodeError::unsupported("gc", offset))?,
                None => Vec::new(),
            };
        supers.push(id);
        let layout = match &composite {
            CompositeType::Struct(fields) => Some(struct_layout(fields)),
            _ => None,
        };
        new.push(TypeInfo { id, is_final: sub.is_final, composite, supers: supers.into(), layout });
    }
    if existing.is_none() {
        reg.groups.insert(form.into(), first);
        for (member, id) in members {
            reg.groups.entry(member.into()).or_insert(id);
        }
        publish(new);
    }
    Ok(out)
}

/// Whether a function of type `have` may stand where one of type `want` is expected:
/// the same canonical type or a declared subtype of it (`call_indirect`'s check and
/// import matching).
pub fn func_matches(have: &FuncType, want: &FuncType) -> bool {
    let (h, w) = (have.canonical(), want.canonical());
    h == w || matches!((info(h), info(w)), (Some(h), Some(w)) if h.is_subtype_of(w))
}

/// Whether heap type `a` is a subtype of heap type `b`.
pub fn heap_matches(a: HeapType, b: HeapType) -> bool {
    use HeapType as H;
    if a == b {
        return true;
    }
    let concrete = |id| info(id);
    match (a, b) {
        (H::Concrete(x), H::Concrete(y)) => match (concrete(x), concrete(y)) {
            (Some(x), Some(y)) => x.is_subtype_of(y),
            _ => false,
        },
        (H::Concrete(x), top) => match concrete(x) {
            Some(x) => {
                let kind = x.top_kind();
                kind == top || (kind != H::Func && matches!(top, H::Eq | H::Any))
            }
            None => false,
        },
        (H::None, H::Concrete(y)) => concrete(y).is_some_and(|y| y.top_kind() != H::Func),
        (H::NoFunc, H::Concrete(y)) => concrete(y).is_some_and(|y| y.top_kind() == H::Func),
        (H::None, b) => matches!(b, H::Any | H::Eq | H::I31 | H::Struct | H::Array),
        (H::NoFunc, b) => b == H::Func,
        (H::NoExtern, b) => b == H::Extern,
        (H::NoExn, b) => b == H::Exn,
        (H::I31 | H::Struct | H::Array, b) => matches!(b, H::Eq | H::Any),
        (H::Eq, b) => b == H::Any,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
