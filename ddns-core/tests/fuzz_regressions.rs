//! Every input kept by the fuzzers, through the same checks the fuzz
//! targets run (`fuzz/src/checks.rs`): the seeds each target starts from
//! and every crash found, fixed, and kept in `fuzz/regressions/<target>/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[path = "../../fuzz/src/checks.rs"]
#[allow(dead_code, unreachable_pub)]
mod checks;

use std::path::PathBuf;

/// Runs `check` on every input under `fuzz/seeds/<target>` and
/// `fuzz/regressions/<target>` (not the hidden `.keep` files that keep an
/// empty folder in git); returns how many seeds and regressions there were.
fn replay(target: &str, check: fn(&[u8])) -> (usize, usize) {
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
fn replay_with_seeds(target: &str, check: fn(&[u8])) {
    let (seeds, regressions) = replay(target, check);
    assert!(seeds > 0, "fuzz/seeds/{target} holds no input");
    println!("{target}: {seeds} seeds and {regressions} regressions hold");
}

#[test]
fn txt_value_inputs() {
    replay_with_seeds("txt_value", checks::txt_value);
}

#[test]
fn seed_codec_inputs() {
    replay_with_seeds("seed_codec", checks::seed);
}

#[test]
fn dyndns2_codec_inputs() {
    replay_with_seeds("dyndns2_codec", checks::dyndns2);
}

#[test]
fn hostname_inputs() {
    replay_with_seeds("hostname", checks::hostname);
}

#[test]
fn signed_message_inputs() {
    replay_with_seeds("signed_message", checks::signed);
}
