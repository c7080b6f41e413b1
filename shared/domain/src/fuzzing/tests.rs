#[test]
fn the_kept_fuzz_corpus_replays() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 5] = [
        ("delivery_json", super::delivery_json),
        ("delivery_csv", super::delivery_csv),
        ("identities", super::identities),
        ("cursor", super::cursor),
        ("query", super::query),
    ];
    let mut replayed = 0;
    for (name, run) in targets {
        let dir = root.join(name);
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            run(&bytes);
            replayed += 1;
        }
    }
    assert!(replayed >= 20, "only {replayed} corpus inputs");
}
