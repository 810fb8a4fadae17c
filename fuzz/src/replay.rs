//! Replays the inputs kept for a fuzz target through its check: the seeds
//! it starts from (`fuzz/seeds/<target>`) and every crash found, fixed and
//! kept (`fuzz/regressions/<target>`). Compiled by path into the
//! regression tests of the crates the targets cover (`ddns-core`,
//! `ddns-authoritative`), from whose manifest directory `../fuzz` is
//! found.

use std::path::PathBuf;

/// Runs `check` on every input under `fuzz/seeds/<target>` and
/// `fuzz/regressions/<target>` (not the hidden `.keep` files that keep an
/// empty folder in git); returns how many seeds and regressions there were.
pub fn replay(target: &str, check: fn(&[u8])) -> (usize, usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut counts = [0; 2];
    for (kind, count) in ["seeds", "regressions"].into_iter().zip(&mut counts) {
        let dir = root.join(kind).join(target);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| check(&data));
                assert!(outcome.is_ok(), "{} fails its check", path.display());
                *count += 1;
            }
        }
    }
    (counts[0], counts[1])
}

/// Replays `target`'s inputs; there must be seeds to replay.
pub fn replay_with_seeds(target: &str, check: fn(&[u8])) {
    let (seeds, regressions) = replay(target, check);
    assert!(seeds > 0, "fuzz/seeds/{target} holds no input");
    println!("{target}: {seeds} seeds and {regressions} regressions hold");
}
