use super::*;

fn image() -> CodeImage {
    CodeImage {
        code: vec![0xc3; 64],
        funcs: vec![Range { start: 0, end: 16 }],
        entries: vec![16],
        host_calls: vec![32],
        traps: vec![
            TrapSite { offset: 3, kind: TrapKind::Wasm(TrapCode::Unreachable) },
            TrapSite { offset: 40, kind: TrapKind::Pending },
        ],
        srclocs: vec![(0, 20), (4, 22)],
        handlers: vec![HandlerSite { ret: 8, landing: 12, frame: 16 }],
        saves: vec![(0..16, vec![(3u8, 8u32)].into_boxed_slice())],
        relocs: vec![
            Reloc { at: 1, kind: RelocKind::PcRel4, target: RelocTarget::Func(0), addend: -4 },
            Reloc { at: 20, kind: RelocKind::Abs8, target: RelocTarget::Helper(2), addend: 0 },
        ],
    }
}

/// A change to an image.
type Change = dyn Fn(&mut CodeImage);

fn module() -> ModuleInfo {
    let wasm = [
        0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, // header
        1, 4, 1, 0x60, 0, 0, // type () -> ()
        3, 2, 1, 0, // one function of type 0
        10, 4, 1, 2, 0, 0x0b, // its body: end
    ];
    ModuleInfo::decode(&wasm, crate::runtime::Features::default()).unwrap()
}

fn key() -> CompositionKey {
    CompositionKey::new(&[("engine", "e 1.0.0".into()), ("simd", "none".into())])
}

#[test]
fn an_artifact_round_trips() {
    let m = module();
    let file = encode(&key(), &m.bytes, &image()).unwrap();
    let d = decode(&file, &key()).unwrap();
    assert_eq!(d.wasm, &m.bytes[..]);
    assert_eq!(d.image, image());
    d.image.validate(&m).unwrap();
}

#[test]
fn truncation_corruption_and_another_composition_are_clear_errors() {
    let m = module();
    let file = encode(&key(), &m.bytes, &image()).unwrap();
    for len in [0, 3, 7, 20, HEADER_LEN, file.len() - 1] {
        let e = decode(&file[..len], &key()).unwrap_err();
        assert!(
            matches!(e, ArtifactError::NotAnArtifact | ArtifactError::Length { .. }),
            "{len}: {e}"
        );
    }
    for at in [HEADER_LEN, HEADER_LEN + 9, file.len() / 2, file.len() - 1] {
        let mut bad = file.clone();
        bad[at] ^= 0x10;
        assert_eq!(decode(&bad, &key()).unwrap_err(), ArtifactError::Checksum, "byte {at}");
    }
    let mut old = file.clone();
    old[4] = 9;
    assert!(matches!(decode(&old, &key()).unwrap_err(), ArtifactError::Version { found: 9, .. }));
    let other = CompositionKey::new(&[("engine", "f 1.0.0".into()), ("simd", "none".into())]);
    let e = decode(&file, &other).unwrap_err();
    assert_eq!(
        e.to_string(),
        "compiled module was built for another composition (engine: file has e 1.0.0, this vm has f 1.0.0): compile it again with this vm"
    );
}

#[test]
fn offsets_outside_the_code_are_rejected() {
    let m = module();
    let cases: Vec<(&str, Box<Change>)> = vec![
        ("function", Box::new(|i| i.funcs[0] = 0..65)),
        ("function ranges", Box::new(|i| i.funcs.push(0..1))),
        ("trampoline", Box::new(|i| i.entries[0] = 64)),
        ("host-call", Box::new(|i| i.host_calls.clear())),
        ("trap site", Box::new(|i| i.traps[0].offset = 100)),
        ("source location", Box::new(|i| i.srclocs[0].0 = 64)),
        ("landing pad", Box::new(|i| i.handlers[0].landing = 64)),
        ("register saves", Box::new(|i| i.saves[0].0 = 60..70)),
        ("relocation at", Box::new(|i| i.relocs[1].at = 60)),
        ("function 1", Box::new(|i| i.relocs[0].target = RelocTarget::Func(1))),
        ("relocation target", Box::new(|i| i.relocs[0].target = RelocTarget::Code(64))),
    ];
    for (what, change) in cases {
        let mut img = image();
        change(&mut img);
        let e = img.validate(&m).unwrap_err();
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
}

#[test]
fn the_hash_sees_every_byte_and_the_length() {
    let base = vec![7u8; 37];
    let h = hash64(&base);
    for i in 0..base.len() {
        let mut b = base.clone();
        b[i] ^= 1;
        assert_ne!(hash64(&b), h, "byte {i}");
    }
    assert_ne!(hash64(&base[..36]), h);
    let mut s = Hasher::new();
    s.write(&base[..5]);
    s.write(&base[5..20]);
    s.write(&base[20..]);
    assert_eq!(s.finish(), h, "streaming equals one shot");
}

#[test]
fn the_build_id_note_is_found() {
    // namesz 4, descsz 3, type 3, "GNU\0", then 3 bytes padded to 4.
    let mut note = vec![4, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0];
    note.extend_from_slice(b"GNU\0");
    note.extend_from_slice(&[0xab, 0xcd, 0xef, 0]);
    let mut other = vec![4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
    other.extend_from_slice(b"GNU\0");
    other.extend_from_slice(&note);
    assert_eq!(find_build_id(&other), Some(&[0xab, 0xcd, 0xef][..]));
    assert_eq!(find_build_id(&note[..14]), None);
    assert_ne!(build_id(), "unknown");
}

#[test]
fn the_cache_stores_evicts_the_oldest_and_survives_a_missing_dir() {
    let dir = std::env::temp_dir().join(format!("vm-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = cache::Cache::new(&dir, 250);
    let k = key();
    let paths: Vec<_> = (0..3u8).map(|i| cache.entry_path(&k, &[i])).collect();
    assert!(cache.get(&paths[0]).is_none());
    for (i, p) in paths.iter().enumerate() {
        cache.put(p, &[i as u8; 100]).unwrap();
        // Modification times must differ for the order to be defined.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(cache.get(&paths[0]).is_none(), "the oldest went");
    assert_eq!(cache.get(&paths[2]), Some(vec![2; 100]));
    assert!(
        std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().ends_with(".tmp"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
