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

#[path = "../../fuzz/src/replay.rs"]
#[allow(unreachable_pub)]
mod replay;

use replay::replay_with_seeds;

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
