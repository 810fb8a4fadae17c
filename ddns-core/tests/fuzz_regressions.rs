//! Every input kept by the fuzzers, through the same checks the fuzz
//! targets run (`fuzz/src/checks.rs`): the seeds each target starts from
//! and every crash found, fixed, and kept in `fuzz/regressions/<target>/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../fuzz/src/checks.rs"]
#[allow(dead_code, unreachable_pub)]
mod checks;

use std::path::PathBuf;

/// Runs `check` on every file under `fuzz/seeds/<target>` and
/// `fuzz/regressions/<target>`; returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for kind in ["seeds", "regressions"] {
        let dir = root.join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| check(&data));
                assert!(outcome.is_ok(), "{} fails its check", path.display());
                count += 1;
            }
        }
    }
    count
}

#[test]
fn seed_codec_inputs() {
    assert!(replay("seed_codec", checks::seed) > 0);
}

#[test]
fn dyndns2_codec_inputs() {
    assert!(replay("dyndns2_codec", checks::dyndns2) > 0);
}

#[test]
fn hostname_inputs() {
    assert!(replay("hostname", checks::hostname) > 0);
}

#[test]
fn signed_message_inputs() {
    assert!(replay("signed_message", checks::signed) > 0);
}
